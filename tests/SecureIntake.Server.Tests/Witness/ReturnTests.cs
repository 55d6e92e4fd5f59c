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
        var receipt = await PostFormAsync(witness, "/en/submit", WitnessForms.Multipart(await WitnessForms.TokenAsync(witness), "first"));
        var codename = CodenameIn(receipt);

        // Typed back by hand: other case and spacing.
        using var signIn = await witness.PostAsync(new Uri("/en/return", UriKind.Relative), new FormUrlEncodedContent(
            [new("token", await WitnessForms.TokenAsync(witness, "/en/return")), new("codename", "  " + codename.ToUpperInvariant().Replace(" ", "  ", StringComparison.Ordinal))]));
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
        var followUp = await PostFormAsync(witness, "/en/thread", WitnessForms.Multipart(await WitnessForms.TokenAsync(witness, "/en/thread"), "second"));
        Assert.Contains("Your follow-up was received", followUp, StringComparison.Ordinal);
        Assert.Equal(batches + 2, await service.CountAsync("submission_items")); // the message and its manifest

        using var signOut = await witness.PostAsync(new Uri("/en/signout", UriKind.Relative), null);
        using var afterwards = await witness.GetAsync(new Uri("/en/thread", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, afterwards.StatusCode);
        Assert.Equal("/en/return", afterwards.Headers.Location!.ToString());
    }

    [Fact]
    public async Task Editors_replies_are_shown_after_sign_in_in_order_and_in_the_witness_language()
    {
        using var witness = NewBrowserlikeClient();
        var before = await service.SubmissionIdsAsync();
        var codename = CodenameIn(await PostFormAsync(witness, "/ru/submit", WitnessForms.Multipart(await WitnessForms.TokenAsync(witness, "/ru/submit"), "Я был там")));
        var submission = (await service.SubmissionIdsAsync()).Except(before).Single();
        var repliedFrom = DateTime.UtcNow;
        await service.ReplyAsync(submission, "Спасибо. Где именно это было?");
        await service.ReplyAsync(submission, "Ещё вопрос: <script>alert(1)</script>");
        var repliedUntil = DateTime.UtcNow;

        using var signIn = await witness.PostAsync(new Uri("/ru/return", UriKind.Relative),
            new FormUrlEncodedContent([new("token", await WitnessForms.TokenAsync(witness, "/ru/return")), new("codename", codename)]));
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        var thread = await witness.GetStringAsync(new Uri("/ru/thread", UriKind.Relative));

        Assert.Contains("Ответы редакции", thread, StringComparison.Ordinal);
        var first = thread.IndexOf("Спасибо. Где именно это было?", StringComparison.Ordinal);
        var second = thread.IndexOf("Ещё вопрос: &lt;script&gt;alert(1)&lt;/script&gt;", StringComparison.Ordinal);
        Assert.True(first > 0 && second > first, thread);
        Assert.DoesNotContain("<script>", thread, StringComparison.Ordinal);
        // The day the replies were stored, which may be either side of midnight UTC from the moment the test began.
        var days = new[] { repliedFrom, repliedUntil }.Select(d => $"Редакция написала {d.ToString("d MMMM yyyy", System.Globalization.CultureInfo.GetCultureInfo("ru"))}").Distinct();
        Assert.True(days.Any(day => thread.Contains(day, StringComparison.Ordinal)), $"none of {string.Join(", ", days)} in {thread}");
    }

    [Fact]
    public async Task Another_site_cannot_sign_a_browser_into_a_thread_without_the_forms_token()
    {
        using var witness = NewBrowserlikeClient();
        var codename = CodenameIn(await PostFormAsync(witness, "/en/submit", WitnessForms.Multipart(await WitnessForms.TokenAsync(witness), "mine")));
        using var victim = NewBrowserlikeClient();

        using var forged = await victim.PostAsync(new Uri("/en/return", UriKind.Relative), new FormUrlEncodedContent([new("codename", codename)]));

        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        Assert.False(forged.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith("si_witness", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_wrong_codename_gets_nothing_and_no_session()
    {
        using var stranger = NewBrowserlikeClient();

        using var response = await stranger.PostAsync(new Uri("/ru/return", UriKind.Relative), new FormUrlEncodedContent(
            [new("token", await WitnessForms.TokenAsync(stranger, "/ru/return")), new("codename", "abacus abdomen abide abiding ablaze able abnormal")]));
        var page = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Такое кодовое имя не найдено", page, StringComparison.Ordinal);
        Assert.False(response.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task A_right_codename_and_a_wrong_one_each_take_at_least_a_second_to_be_answered()
    {
        using var witness = NewBrowserlikeClient();
        var codename = CodenameIn(await PostFormAsync(witness, "/ru/submit", WitnessForms.Multipart(await WitnessForms.TokenAsync(witness, "/ru/submit"), "через секунду")));

        foreach (var (typed, answer) in new[] { (codename, HttpStatusCode.Redirect), ("abacus abdomen abide abiding ablaze able abnormal", HttpStatusCode.BadRequest) })
        {
            using var browser = NewBrowserlikeClient();
            var form = new FormUrlEncodedContent([new("token", await WitnessForms.TokenAsync(browser, "/ru/return")), new("codename", typed)]);
            var sent = System.Diagnostics.Stopwatch.GetTimestamp();
            using var response = await browser.PostAsync(new Uri("/ru/return", UriKind.Relative), form);
            var took = System.Diagnostics.Stopwatch.GetElapsedTime(sent);

            Assert.Equal(answer, response.StatusCode);
            // The hash itself takes milliseconds with these settings: only the floor makes it a second. A slow machine only adds.
            Assert.True(took >= TimeSpan.FromMilliseconds(990), $"{answer} after {took.TotalMilliseconds} ms");
        }
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

    private HttpClient NewBrowserlikeClient() => WitnessForms.NewBrowserlikeClient(service.Client.BaseAddress!);

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
