using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace SecureIntake.Server.Tests.Witness;

/// <summary>What a browser does before it posts: keeps cookies, opens the form page and sends its hidden token back.</summary>
internal static partial class WitnessForms
{
    public static HttpClient NewBrowserlikeClient(Uri address) =>
        new(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() }) { BaseAddress = address };

    /// <summary>The anti-forgery token of the form on <paramref name="formPage"/>, as this client's cookie makes it.</summary>
    public static async Task<string> TokenAsync(HttpClient client, string formPage = "/en/submit")
    {
        var page = await client.GetStringAsync(new Uri(formPage, UriKind.Relative));
        return TokenPattern().Match(page) is { Success: true } match ? match.Groups[1].Value : throw new InvalidOperationException($"no form token on {formPage}");
    }

    /// <summary>A multipart form with the token first, as our forms send it, and a message.</summary>
    public static MultipartFormDataContent Multipart(string token, string message) => new()
    {
        { new StringContent(token), "token" },
        { new StringContent(message, Encoding.UTF8), "message" },
    };

    [GeneratedRegex("name=\"token\" value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();
}
