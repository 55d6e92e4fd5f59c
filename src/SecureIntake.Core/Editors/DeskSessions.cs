using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Npgsql;
using SecureIntake.Core.Storage;

namespace SecureIntake.Core.Editors;

public enum DeskSessionKind
{
    /// <summary>The web desk: a cookie, with idle and absolute time-outs.</summary>
    Browser,

    /// <summary>The desk tool on an editor's machine: a bearer token that lives one hour.</summary>
    Tool,
}

/// <summary>
/// A live session and everything a desk request needs to know about its editor, read together: the desks they may
/// see, what credentials they must still replace, and the language their pages are in.
/// </summary>
public sealed record DeskSession(Editor Editor, DeskScope Scope, CredentialsDue Due, string Language);

/// <summary>
/// Signed-in editors. The token is random and only its SHA-256 is stored, so the database alone signs no one
/// in; sessions of a disabled editor stop working at once, because every lookup checks the account.
/// </summary>
public sealed class DeskSessions(NpgsqlDataSource dataSource, TimeProvider clock, IOptions<EditorOptions>? options = null)
{
    public static readonly TimeSpan BrowserIdleTimeout = TimeSpan.FromMinutes(30);
    public static readonly TimeSpan BrowserLifetime = TimeSpan.FromHours(12);
    public static readonly TimeSpan ToolLifetime = TimeSpan.FromHours(1);

    // Every desk request makes this lookup, so it is one statement: the session's time-outs (an expired session is
    // deleted), the throttled touch of last_seen_at, the account, its desks, what is due and the language.
    // The CTEs all see the session as it was before the statement, so the row read is the one judged.
    private const string LookupSql = """
        WITH session AS (
            SELECT token_hash, editor_id, last_seen_at,
                   created_at < @LifetimeCutoff OR (@CheckIdle AND last_seen_at < @IdleCutoff) AS expired
            FROM desk_sessions WHERE token_hash = @Hash AND kind = @Kind
        ), ended AS (
            DELETE FROM desk_sessions d USING session s WHERE d.token_hash = s.token_hash AND s.expired
        ), touched AS (
            UPDATE desk_sessions t SET last_seen_at = @Now FROM session s
            WHERE t.token_hash = s.token_hash AND NOT s.expired AND s.last_seen_at < @TouchCutoff
        )
        SELECT e.id AS Id, e.name AS Name, e.role AS Role, e.language AS Language,
               e.password_set_by_admin AS MustChangePassword, e.totp_seen_by_admin AS MustEnrolTwoFactor,
               ARRAY(SELECT m.desk_id FROM desk_members m WHERE m.editor_id = e.id) AS Desks
        FROM session s JOIN editors e ON e.id = s.editor_id
        WHERE NOT s.expired AND NOT e.disabled
        """;

    private readonly TimeSpan _idleTimeout = options?.Value.SessionIdleTimeout ?? BrowserIdleTimeout;
    private readonly TimeSpan _lifetime = options?.Value.SessionLifetime ?? BrowserLifetime;

    // last_seen_at is written at most this often, not on every request; often enough that use keeps a short idle time-out alive.
    private TimeSpan TouchInterval => TimeSpan.FromTicks(Math.Min(TimeSpan.FromMinutes(1).Ticks, _idleTimeout.Ticks / 4));

    public async Task<(string Token, DateTimeOffset ExpiresAt)> StartAsync(Editor editor, DeskSessionKind kind, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(editor);
        var token = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var now = clock.GetUtcNow();
        await dataSource.ExecuteAsync("""
            INSERT INTO desk_sessions (token_hash, editor_id, kind, created_at, last_seen_at) VALUES (@Hash, @Editor, @Kind, @Now, @Now)
            """, new { Hash = Hash(token), Editor = editor.Id, Kind = KindText(kind), Now = now }, cancellationToken).ConfigureAwait(false);
        return (token, now + (kind == DeskSessionKind.Tool ? ToolLifetime : _lifetime));
    }

    /// <summary>
    /// The live session a token belongs to, or null when it is unknown, of the other kind, timed out (then it is ended),
    /// or its editor is disabled. One round-trip, whatever it finds.
    /// </summary>
    public async Task<DeskSession?> FindAsync(string? token, DeskSessionKind kind, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 64)
        {
            return null;
        }

        var now = clock.GetUtcNow();
        var row = await dataSource.QuerySingleOrDefaultAsync<SessionRow>(LookupSql, new
        {
            Hash = Hash(token),
            Kind = KindText(kind),
            Now = now,
            LifetimeCutoff = now - (kind == DeskSessionKind.Tool ? ToolLifetime : _lifetime),
            // A desk tool token has no idle time-out: it lives its hour however it is used.
            CheckIdle = kind == DeskSessionKind.Browser,
            IdleCutoff = now - _idleTimeout,
            TouchCutoff = now - TouchInterval,
        }, cancellationToken).ConfigureAwait(false);
        if (row is null)
        {
            return null;
        }

        var editor = new Editor(row.Id, row.Name, EditorStore.ParseRole(row.Role), Disabled: false);
        // Admins see every desk whatever desk_members says, as DeskMembership.ScopeOfAsync has it.
        var scope = editor.Role == EditorRole.Admin ? DeskScope.Everything : DeskScope.Of(row.Desks);
        return new DeskSession(editor, scope, new CredentialsDue(row.MustChangePassword, row.MustEnrolTwoFactor), row.Language);
    }

    public async Task EndAsync(string token, CancellationToken cancellationToken) =>
        await dataSource.ExecuteAsync("DELETE FROM desk_sessions WHERE token_hash = @Hash", new { Hash = Hash(token) }, cancellationToken).ConfigureAwait(false);

    /// <summary>A value only the session's holder can compute: desk forms carry it against cross-site posts.</summary>
    public static string FormToken(string sessionToken) =>
        Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes("secureintake desk form v1 " + sessionToken)));

    private static byte[] Hash(string token) => SHA256.HashData(Encoding.ASCII.GetBytes(token));

    private static string KindText(DeskSessionKind kind) => kind == DeskSessionKind.Tool ? "tool" : "browser";

    // Properties, not a record's constructor: Npgsql types an array column as System.Array, which no constructor parameter matches.
    private sealed class SessionRow
    {
        public Guid Id { get; init; }

        public string Name { get; init; } = "";

        public string Role { get; init; } = "";

        public string Language { get; init; } = "";

        public bool MustChangePassword { get; init; }

        public bool MustEnrolTwoFactor { get; init; }

        public Guid[] Desks { get; init; } = [];
    }
}
