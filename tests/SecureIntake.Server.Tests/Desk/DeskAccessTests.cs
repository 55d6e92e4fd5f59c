using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using SecureIntake.Server.Tests.Witness;

namespace SecureIntake.Server.Tests.Desk;

/// <summary>Who may reach which desk route, and how sign-in refuses.</summary>
public sealed class DeskAccessTests(DeskService desk) : IClassFixture<DeskService>
{
    private static readonly string[] DeskPages = ["/desk", "/desk/audit", "/desk/admin", $"/desk/submissions/{Guid.NewGuid()}"];

    [Fact]
    public async Task Every_desk_route_sends_an_anonymous_visitor_to_sign_in_and_the_api_answers_401()
    {
        using var anonymous = desk.NewDeskBrowser();
        foreach (var page in DeskPages)
        {
            using var response = await anonymous.GetAsync(new Uri(page, UriKind.Relative));
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.Equal("/desk/sign-in", response.Headers.Location!.ToString());
        }

        using var post = await anonymous.PostAsync(new Uri($"/desk/submissions/{Guid.NewGuid()}/status", UriKind.Relative),
            new FormUrlEncodedContent([new("value", "discarded")]));
        Assert.Equal(HttpStatusCode.Redirect, post.StatusCode);

        using var api = await anonymous.GetAsync(new Uri("/desk/api/submissions", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
        Assert.Equal("application/problem+json", api.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task An_editor_cannot_reach_admin_pages()
    {
        var secret = await desk.AddEditorAsync("bob");
        using var bob = await desk.SignedInBrowserAsync("bob", secret);

        Assert.Equal(HttpStatusCode.OK, (await bob.GetAsync(new Uri("/desk", UriKind.Relative))).StatusCode);
        foreach (var page in new[] { "/desk/admin", "/desk/audit" })
        {
            using var response = await bob.GetAsync(new Uri(page, UriKind.Relative));
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }

        using var jobs = await bob.GetAsync(new Uri("/desk/hangfire", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Forbidden, jobs.StatusCode);

        using var addEditor = await DeskService.PostDeskFormAsync(bob, "/desk", "/desk/admin/editors/add", ("name", "mallory"), ("password", DeskService.Password), ("admin", "yes"));
        Assert.Equal(HttpStatusCode.Forbidden, addEditor.StatusCode);
    }

    [Fact]
    public async Task An_admin_reaches_the_job_dashboard_inside_the_desk_and_an_anonymous_visitor_does_not()
    {
        var secret = await desk.AddEditorAsync("gina", admin: true);
        using var gina = await desk.SignedInBrowserAsync("gina", secret);

        using var dashboard = await gina.GetAsync(new Uri("/desk/hangfire", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
        Assert.Contains("SecureIntake jobs", await dashboard.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var anonymous = await desk.NewDeskBrowser().GetAsync(new Uri("/desk/hangfire", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, anonymous.StatusCode);
        Assert.Equal("/desk/sign-in", anonymous.Headers.Location!.ToString());
    }

    [Fact]
    public async Task A_disabled_editors_session_stops_working_at_once()
    {
        var secret = await desk.AddEditorAsync("carol");
        using var carol = await desk.SignedInBrowserAsync("carol", secret);
        Assert.Equal(HttpStatusCode.OK, (await carol.GetAsync(new Uri("/desk", UriKind.Relative))).StatusCode);

        (await SecureIntakeCli.RunAsync(desk.Database, "editors", "disable", "carol")).EnsureSuccess("editors disable");

        using var after = await carol.GetAsync(new Uri("/desk", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
        using var again = await DeskService.SignInAsync(desk.NewDeskBrowser(), "carol", DeskService.Password, desk.NextCode("carol", secret));
        Assert.Equal(HttpStatusCode.Unauthorized, again.StatusCode);
    }

    [Fact]
    public async Task A_witness_session_cannot_reach_the_desk()
    {
        using var witness = desk.NewWitnessBrowser();
        var form = WitnessForms.Multipart(await WitnessForms.TokenAsync(witness), "hello");
        var codename = ReturnTests.CodenameIn(await (await witness.PostAsync(new Uri("/en/submit", UriKind.Relative), form)).Content.ReadAsStringAsync());
        using var signIn = await witness.PostAsync(new Uri("/en/return", UriKind.Relative),
            new FormUrlEncodedContent([new("token", await WitnessForms.TokenAsync(witness, "/en/return")), new("codename", codename)]));
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);

        // Cookies know no ports: the witness's cookies go along to the desk listener on the same host.
        using var response = await witness.GetAsync(new Uri(desk.DeskAddress, "/desk"));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/desk/sign-in", response.Headers.Location!.ToString());
    }

    [Fact]
    public async Task A_code_works_once_and_wrong_passwords_lock_the_account()
    {
        var secret = await desk.AddEditorAsync("dave");
        var code = desk.NextCode("dave", secret);
        using (var first = await DeskService.SignInAsync(desk.NewDeskBrowser(), "dave", DeskService.Password, code))
        {
            Assert.Equal(HttpStatusCode.Redirect, first.StatusCode);
        }

        using (var replay = await DeskService.SignInAsync(desk.NewDeskBrowser(), "dave", DeskService.Password, code))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, replay.StatusCode);
        }

        for (var attempt = 0; attempt < 4; attempt++)
        {
            // The password is wrong, so the code is never looked at: a fixed one keeps the fresh codes for the end.
            using var wrong = await DeskService.SignInAsync(desk.NewDeskBrowser(), "dave", "not the password at all", "000000");
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }

        // Five failures in a row (the replay counted too): now even the right password and a fresh code wait.
        using var locked = await DeskService.SignInAsync(desk.NewDeskBrowser(), "dave", DeskService.Password, desk.NextCode("dave", secret));
        Assert.Equal(HttpStatusCode.TooManyRequests, locked.StatusCode);
        Assert.Contains("locked until", await locked.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_admins_post_without_their_own_sessions_form_token_changes_nothing()
    {
        // An admin, so the role check lets the post through and only the form token can refuse it.
        var secret = await desk.AddEditorAsync("erin", admin: true);
        using var erin = await desk.SignedInBrowserAsync("erin", secret);
        var otherSecret = await desk.AddEditorAsync("erin-other");
        using var other = await desk.SignedInBrowserAsync("erin-other", otherSecret);

        foreach (var (what, token) in await DeskService.WrongTokensAsync(other))
        {
            using var forged = await DeskService.PostWithTokenAsync(erin, token, "/desk/admin/editors/add",
                ("name", "intruder"), ("password", DeskService.Password), ("admin", "yes"));
            Assert.True(forged.StatusCode == HttpStatusCode.Forbidden, $"{what}: {forged.StatusCode}");
        }

        var editors = (await SecureIntakeCli.RunAsync(desk.Database, "editors", "list")).EnsureSuccess("editors list").OutputText;
        Assert.DoesNotContain("intruder", editors, StringComparison.Ordinal);

        // The same post with her own token is what an admin's page sends, and it works: the refusals were the token's.
        using var real = await DeskService.PostDeskFormAsync(erin, "/desk/admin", "/desk/admin/editors/add",
            ("name", "invited"), ("password", DeskService.Password));
        Assert.Equal(HttpStatusCode.OK, real.StatusCode);
        Assert.Contains("invited", (await SecureIntakeCli.RunAsync(desk.Database, "editors", "list")).EnsureSuccess("editors list").OutputText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_desk_tool_api_takes_a_bearer_token_and_not_a_browser_cookie()
    {
        var secret = await desk.AddEditorAsync("frank");
        using var browser = await desk.SignedInBrowserAsync("frank", secret);
        using var withCookie = await browser.GetAsync(new Uri("/desk/api/submissions", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, withCookie.StatusCode);

        using var client = new HttpClient { BaseAddress = desk.DeskAddress };
        using var signIn = await client.PostAsJsonAsync(new Uri("/desk/api/sign-in", UriKind.Relative),
            new { name = "frank", password = DeskService.Password, code = desk.NextCode("frank", secret) });
        Assert.Equal(HttpStatusCode.OK, signIn.StatusCode);
        var token = (await signIn.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("token").GetString();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var list = await client.GetAsync(new Uri("/desk/api/submissions", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.Contains("\"submissions\"", await list.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
