using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;

namespace SecureIntake.Web.Witness;

/// <summary>
/// Signed-in witnesses, in this process's memory only: the cookie holds an opaque random id, never the
/// codename or anything derived from it (SecureDrop kept the codename in a signed cookie). The cookie has
/// no expiry, so it dies with the browser session; idle sessions end after <see cref="IdleTimeout"/>, and a
/// restart signs everyone out.
/// </summary>
internal sealed class WitnessSessions(TimeProvider clock)
{
    public const string CookieName = "si_witness";
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromMinutes(30);

    private readonly ConcurrentDictionary<string, Session> _sessions = new(StringComparer.Ordinal);

    public void SignIn(HttpContext context, ThreadAccess access)
    {
        Forget(context);
        EndIdleSessions();
        var id = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        _sessions[id] = new Session(access, clock.GetUtcNow());
        context.Response.Cookies.Append(CookieName, id, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = context.Request.IsHttps,
            Path = "/",
            IsEssential = true,
        });
    }

    /// <summary>The thread of the signed-in witness, or null.</summary>
    public ThreadAccess? Current(HttpContext context)
    {
        if (!context.Request.Cookies.TryGetValue(CookieName, out var id) || id is null || !_sessions.TryGetValue(id, out var session))
        {
            return null;
        }

        var now = clock.GetUtcNow();
        if (now - session.LastSeen > IdleTimeout)
        {
            End(id);
            return null;
        }

        _sessions[id] = session with { LastSeen = now };
        return session.Access;
    }

    public void SignOut(HttpContext context)
    {
        Forget(context);
        context.Response.Cookies.Delete(CookieName, new CookieOptions { Path = "/" });
    }

    /// <summary>Ends the session the request's cookie names, if any (a new sign-in never keeps the old one).</summary>
    private void Forget(HttpContext context)
    {
        if (context.Request.Cookies.TryGetValue(CookieName, out var id) && id is not null)
        {
            End(id);
        }
    }

    /// <summary>Sessions nobody comes back to must not keep their unlock keys in memory for ever.</summary>
    private void EndIdleSessions()
    {
        var now = clock.GetUtcNow();
        foreach (var (id, session) in _sessions)
        {
            if (now - session.LastSeen > IdleTimeout)
            {
                End(id);
            }
        }
    }

    /// <summary>Forgets a session and wipes its unlock key (sessions idle past the time-out go when next looked up).</summary>
    private void End(string id)
    {
        if (_sessions.TryRemove(id, out var session))
        {
            CryptographicOperations.ZeroMemory(session.Access.UnlockKey);
        }
    }

    private sealed record Session(ThreadAccess Access, DateTimeOffset LastSeen);
}
