using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using SecureIntake.Core.Codenames;

namespace SecureIntake.Web.Witness;

/// <summary>
/// Anti-forgery for witness forms that works with JavaScript off and never reads a whole form: a random
/// value in a browser-session cookie (HttpOnly, SameSite=Strict, no expiry) and, in each form, a hidden
/// field holding when it was issued, a nonce, and an HMAC of all three under a key derived from the
/// install's pepper. A post must carry both, matching, within <see cref="IntakeLimits.FormTokenHours"/>.
/// The nonce lets <see cref="Admission.IntakeAdmission"/> count the posts made with one token.
/// ASP.NET's antiforgery validates by reading the whole form first, which for multipart bodies buffers uploads
/// to disk, so it cannot guard the intake form.
/// </summary>
internal sealed class FormTokens(IOptions<CodenameOptions> codenames, IOptions<IntakeLimits> limits, TimeProvider clock)
{
    public const string CookieName = "si_form";
    public const string FieldName = "token";
    public const int MaxTokenCharacters = 64;

    private const int StampBytes = 4;
    private const int NonceBytes = 12;
    private const int MacBytes = 16;
    private const int TokenBytes = StampBytes + NonceBytes + MacBytes;

    private readonly byte[] _key = HMACSHA256.HashData(Convert.FromBase64String(codenames.Value.Pepper), "secureintake witness form token v2"u8);
    private readonly TimeSpan _lifetime = TimeSpan.FromHours(limits.Value.FormTokenHours);

    /// <summary>A new hidden field's value for this browser, setting the cookie when it has none yet.</summary>
    public string Issue(HttpContext context)
    {
        if (CookieOf(context) is not { } secret)
        {
            secret = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
            context.Response.Cookies.Append(CookieName, secret, new CookieOptions
            {
                HttpOnly = true,
                SameSite = SameSiteMode.Strict,
                Secure = context.Request.IsHttps,
                Path = "/",
                IsEssential = true,
            });
        }

        var token = new byte[TokenBytes];
        BinaryPrimitives.WriteUInt32BigEndian(token, (uint)(clock.GetUtcNow().ToUnixTimeSeconds() / 60));
        RandomNumberGenerator.Fill(token.AsSpan(StampBytes, NonceBytes));
        Mac(secret, token.AsSpan(0, StampBytes + NonceBytes), token.AsSpan(StampBytes + NonceBytes));
        return Base64Url.EncodeToString(token);
    }

    public bool IsValid(HttpContext context, string? field) => Read(context, field) is not null;

    /// <summary>The token when it is this browser's, unaltered and unexpired; otherwise null.</summary>
    public FormToken? Read(HttpContext context, string? field)
    {
        if (CookieOf(context) is not { } secret || field is not { Length: > 0 and <= MaxTokenCharacters })
        {
            return null;
        }

        Span<byte> token = stackalloc byte[TokenBytes];
        if (!Base64Url.TryDecodeFromChars(field, token, out var length) || length != TokenBytes)
        {
            return null;
        }

        Span<byte> expected = stackalloc byte[MacBytes];
        Mac(secret, token[..(StampBytes + NonceBytes)], expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, token[(StampBytes + NonceBytes)..]))
        {
            return null;
        }

        var issued = DateTimeOffset.FromUnixTimeSeconds(BinaryPrimitives.ReadUInt32BigEndian(token) * 60L);
        var age = clock.GetUtcNow() - issued;
        return age < TimeSpan.FromMinutes(-1) || age > _lifetime
            ? null
            : new FormToken(Convert.ToHexString(token.Slice(StampBytes, NonceBytes)), issued + _lifetime);
    }

    private static string? CookieOf(HttpContext context) =>
        context.Request.Cookies.TryGetValue(CookieName, out var value) && value is { Length: 43 } ? value : null;

    private void Mac(string secret, ReadOnlySpan<byte> stampAndNonce, Span<byte> destination)
    {
        var message = new byte[secret.Length + stampAndNonce.Length];
        Encoding.ASCII.GetBytes(secret, message);
        stampAndNonce.CopyTo(message.AsSpan(secret.Length));
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(_key, message, mac);
        mac[..MacBytes].CopyTo(destination);
    }
}

/// <summary>A verified form token: its nonce (to count its posts) and when it stops being accepted.</summary>
internal sealed record FormToken(string Nonce, DateTimeOffset Expires);
