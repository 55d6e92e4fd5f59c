using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace SecureIntake.Server.Tests.Witness;

/// <summary>A witness comes back with their codename, sends more, and signs out.</summary>
public sealed partial class ReturnTests(WitnessService service) : IClassFixture<WitnessService>
{
    [Fact]
    public async Task A_witness_returns_with_the_codename_sends_a_follow_up_and_signs_out()
    {
        using var witness = NewBrowserlikeClient();
        var receipt = await PostFormAsync(witness, "/en/submit", new MultipartFormDataContent { { new StringContent("first", Encoding.UTF8), "message" } });
        var codename = CodenameIn(receipt);

        // Typed back by hand: other case and spacing.
        using var signIn = await witness.PostAsync(new Uri("/en/return", UriKind.Relative),
            new FormUrlEncodedContent([new("codename", "  " + codename.ToUpperInvariant().Replace(" ", "  ", StringComparison.Ordinal))]));
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        Assert.Equal("/en/thread", signIn.Headers.Location!.ToString());
        var cookie = signIn.Headers.GetValues("Set-Cookie").Single();
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("expires", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(codename.Split(' ')[0], cookie, StringComparison.OrdinalIgnoreCase);

        var thread = await witness.GetStringAsync(new Uri("/en/thread", UriKind.Relative));
        Assert.Contains("Your submission", thread, StringComparison.Ordinal);
        var batches = await service.CountAsync("submission_items");
        var followUp = await PostFormAsync(witness, "/en/thread", new MultipartFormDataContent { { new StringContent("second", Encoding.UTF8), "message" } });
        Assert.Contains("Your follow-up was received", followUp, StringComparison.Ordinal);
        Assert.Equal(batches + 2, await service.CountAsync("submission_items")); // the message and its manifest

        using var signOut = await witness.PostAsync(new Uri("/en/signout", UriKind.Relative), null);
        using var afterwards = await witness.GetAsync(new Uri("/en/thread", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, afterwards.StatusCode);
        Assert.Equal("/en/return", afterwards.Headers.Location!.ToString());
    }

    [Fact]
    public async Task A_wrong_codename_gets_nothing_and_no_session()
    {
        using var stranger = NewBrowserlikeClient();

        using var response = await stranger.PostAsync(new Uri("/ru/return", UriKind.Relative),
            new FormUrlEncodedContent([new("codename", "abacus abdomen abide abiding ablaze able abnormal")]));
        var page = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Такое кодовое имя не найдено", page, StringComparison.Ordinal);
        Assert.False(response.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task A_follow_up_without_signing_in_is_refused_and_nothing_is_kept()
    {
        using var stranger = NewBrowserlikeClient();
        var items = await service.CountAsync("submission_items");

        using var response = await stranger.PostAsync(new Uri("/en/thread", UriKind.Relative),
            new MultipartFormDataContent { { new StringContent("sneaky", Encoding.UTF8), "message" } });

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(items, await service.CountAsync("submission_items"));
    }

    private HttpClient NewBrowserlikeClient() =>
        new(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() }) { BaseAddress = service.Client.BaseAddress };

    private static async Task<string> PostFormAsync(HttpClient client, string path, HttpContent content)
    {
        using var response = await client.PostAsync(new Uri(path, UriKind.Relative), content);
        var page = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, page);
        return page;
    }

    internal static string CodenameIn(string page) => CodenamePattern().Match(page) is { Success: true } match
        ? match.Groups[1].Value
        : throw new InvalidOperationException("no codename on the page");

    [GeneratedRegex("""<p class="codename" id="your-codename">([a-z -]+)</p>""")]
    private static partial Regex CodenamePattern();
}
