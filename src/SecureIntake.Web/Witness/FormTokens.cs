using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using SecureIntake.Core.Codenames;

namespace SecureIntake.Web.Witness;

/// <summary>
/// Anti-forgery for witness forms that works with JavaScript off and never reads a whole form: a random
/// value in a browser-session cookie (HttpOnly, SameSite=Strict, no expiry) and, in each form, a hidden
/// field holding its HMAC under a key derived from the install's pepper. A post must carry both, matching.
/// ASP.NET's antiforgery validates by reading the whole form first, which for multipart bodies buffers uploads
/// to disk, so it cannot guard the intake form.
/// </summary>
internal sealed class FormTokens(IOptions<CodenameOptions> codenames)
{
    public const string CookieName = "si_form";
    public const string FieldName = "token";
    public const int MaxTokenCharacters = 64;

    private readonly byte[] _key = HMACSHA256.HashData(Convert.FromBase64String(codenames.Value.Pepper), "secureintake witness form token v1"u8);

    /// <summary>The hidden field's value for this browser, setting the cookie when it has none yet.</summary>
    public string Issue(HttpContext context)
    {
        if (CookieOf(context) is not { } secret)
        {
            secret = Base64Url(RandomNumberGenerator.GetBytes(32));
            context.Response.Cookies.Append(CookieName, secret, new CookieOptions
            {
                HttpOnly = true,
                SameSite = SameSiteMode.Strict,
                Secure = context.Request.IsHttps,
                Path = "/",
                IsEssential = true,
            });
        }

        return TokenFor(secret);
    }

    public bool IsValid(HttpContext context, string? field) =>
        CookieOf(context) is { } secret && field is { Length: > 0 and <= MaxTokenCharacters }
        && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(TokenFor(secret)), Encoding.ASCII.GetBytes(field));

    private static string? CookieOf(HttpContext context) =>
        context.Request.Cookies.TryGetValue(CookieName, out var value) && value is { Length: 43 } ? value : null;

    private string TokenFor(string secret) => Base64Url(HMACSHA256.HashData(_key, Encoding.ASCII.GetBytes(secret)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
