using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using SecureIntake.Core.Editors;
using SecureIntake.Server.Tests.Witness;

namespace SecureIntake.Server.Tests.Desk;

/// <summary>
/// The desk's guards one by one, through the real server: each post needs its own session's form token, and each
/// kind of credential (desk cookie, desk-tool token, witness cookie) opens only the doors it was made for.
/// </summary>
public sealed class DeskGuardTests(DeskService desk) : IClassFixture<DeskService>
{
    private static readonly (string Action, (string Key, string Value)[] Fields)[] SubmissionActions =
    [
        ("status", [("value", "discarded")]),
        ("assign", [("value", "ivan")]),
        ("priority", [("value", "high")]),
        ("tag", [("value", "forged"), ("op", "add")]),
        ("hold", [("value", "on")]),
        ("note", [("text", "a note a forging site wrote")]),
        ("reply", [("text", "a reply a forging site wrote")]),
        ("delete", [("confirm", "yes")]),
    ];

    [Fact]
    public async Task Every_action_on_a_submission_without_the_sessions_own_form_token_is_refused_and_changes_nothing()
    {
        var secret = await desk.AddEditorAsync("ivan");
        using var ivan = await desk.SignedInBrowserAsync("ivan", secret);
        using var other = await desk.SignedInBrowserAsync("judy", await desk.AddEditorAsync("judy"));
        var (id, _) = await SubmitAsync("a tip no forged post may touch");
        var before = await SubmissionStateAsync(id);

        foreach (var (what, token) in await DeskService.WrongTokensAsync(other))
        {
            foreach (var (action, fields) in SubmissionActions)
            {
                using var response = await DeskService.PostWithTokenAsync(ivan, token, $"/desk/submissions/{id}/{action}", fields);
                Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{action} with {what}: {response.StatusCode}");
            }
        }

        Assert.Equal(before, await SubmissionStateAsync(id));

        // The page's own form, token and all, does change it: the refusals above were the token's doing.
        using var real = await DeskService.PostDeskFormAsync(ivan, "/desk", $"/desk/submissions/{id}/status", ("value", "in-review"));
        Assert.Equal(HttpStatusCode.Redirect, real.StatusCode);
        Assert.NotEqual(before, await SubmissionStateAsync(id));
    }

    [Fact]
    public async Task Every_admin_post_by_an_admin_without_their_own_sessions_form_token_is_refused_and_changes_nothing()
    {
        var secret = await desk.AddEditorAsync("kate", admin: true);
        using var kate = await desk.SignedInBrowserAsync("kate", secret);
        var victimSecret = await desk.AddEditorAsync("victim");
        using var victim = await desk.SignedInBrowserAsync("victim", victimSecret);
        var key = await File.ReadAllTextAsync(desk.Keys.Second);
        (string Action, (string Key, string Value)[] Fields)[] posts =
        [
            ("editors/add", [("name", "intruder"), ("password", DeskService.Password), ("admin", "yes")]),
            ("editors/disable", [("name", "victim")]),
            ("editors/reset-2fa", [("name", "victim")]),
            ("desks/add", [("desk", "forged"), ("days", "1"), ("key", key)]),
            ("desks/retention", [("desk", "default"), ("days", "1")]),
            ("keys/add", [("desk", "default"), ("key", key)]),
            ("keys/remove", [("fingerprint", desk.Keys.UsableFingerprint)]),
        ];
        var before = await AdminStateAsync();

        foreach (var (what, token) in await DeskService.WrongTokensAsync(victim))
        {
            foreach (var (action, fields) in posts)
            {
                using var response = await DeskService.PostWithTokenAsync(kate, token, $"/desk/admin/{action}", fields);
                Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{action} with {what}: {response.StatusCode}");
            }
        }

        Assert.Equal(before, await AdminStateAsync());
        Assert.Equal(HttpStatusCode.OK, (await victim.GetAsync(new Uri("/desk", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task Desk_sign_in_without_the_forms_own_token_is_refused_before_the_password_and_code_are_looked_at()
    {
        var secret = await desk.AddEditorAsync("leo");
        var code = desk.NextCode("leo", secret);
        using var elsewhere = desk.NewDeskBrowser();
        var othersToken = await WitnessForms.TokenAsync(elsewhere, "/desk/sign-in");

        foreach (var (what, token) in new[] { ("no token", (string?)null), ("a forged token", new string('A', 43)), ("another browser's token", othersToken) })
        {
            using var browser = desk.NewDeskBrowser();
            await WitnessForms.TokenAsync(browser, "/desk/sign-in"); // the form cookie a real visit leaves
            List<KeyValuePair<string, string>> fields = [new("name", "leo"), new("password", DeskService.Password), new("code", code)];
            if (token is not null)
            {
                fields.Add(new("token", token));
            }

            using var response = await browser.PostAsync(new Uri("/desk/sign-in", UriKind.Relative), new FormUrlEncodedContent(fields));
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{what}: {response.StatusCode}");
            Assert.False(response.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith("si_desk=", StringComparison.Ordinal)), what);
            Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync(new Uri("/desk", UriKind.Relative))).StatusCode);
        }

        // The code was never checked, so it was not used up and no failure was counted: the real form takes it.
        using var real = await DeskService.SignInAsync(desk.NewDeskBrowser(), "leo", DeskService.Password, code);
        Assert.Equal(HttpStatusCode.Redirect, real.StatusCode);
    }

    [Fact]
    public async Task A_desk_session_opens_nothing_on_the_witness_listener_and_that_listener_serves_no_desk_route()
    {
        var secret = await desk.AddEditorAsync("mona");
        var (mona, jar) = NewBrowser(desk.DeskAddress);
        using (mona)
        {
            Assert.Equal(HttpStatusCode.Redirect, (await DeskService.SignInAsync(mona, "mona", DeskService.Password, desk.NextCode("mona", secret))).StatusCode);
            var session = DeskCookie(jar);
            var token = await ToolTokenAsync("mona", secret);

            using var witnessSide = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = desk.Address };
            using (var thread = Get("/en/thread", ("Cookie", $"si_desk={session}; si_witness={session}")))
            {
                using var response = await witnessSide.SendAsync(thread);
                Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
                Assert.Equal("/en/return", response.Headers.Location!.ToString());
            }

            foreach (var route in new[] { "/desk", "/desk/sign-in", "/desk/admin", "/desk/api/submissions", "/desk/hangfire" })
            {
                using var withCookie = Get(route, ("Cookie", $"si_desk={session}"));
                using var answer = await witnessSide.SendAsync(withCookie);
                Assert.True(answer.StatusCode == HttpStatusCode.NotFound, $"{route} with a desk cookie: {answer.StatusCode}");
                using var withToken = Get(route, ("Authorization", $"Bearer {token}"));
                using var tokenAnswer = await witnessSide.SendAsync(withToken);
                Assert.True(tokenAnswer.StatusCode == HttpStatusCode.NotFound, $"{route} with a desk-tool token: {tokenAnswer.StatusCode}");
            }
        }
    }

    [Fact]
    public async Task A_desk_tool_token_opens_no_browser_route_and_a_browser_session_opens_no_api_route()
    {
        var secret = await desk.AddEditorAsync("nina");
        var (id, item) = await SubmitAsync("for the tool, not the browser");
        var token = await ToolTokenAsync("nina", secret);
        var (browser, jar) = NewBrowser(desk.DeskAddress);
        using (browser)
        {
            Assert.Equal(HttpStatusCode.Redirect, (await DeskService.SignInAsync(browser, "nina", DeskService.Password, desk.NextCode("nina", secret))).StatusCode);
            var session = DeskCookie(jar);
            using var bare = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = desk.DeskAddress };

            foreach (var route in new[] { "/desk", $"/desk/submissions/{id}", $"/desk/submissions/{id}/archive.zip", $"/desk/submissions/{id}/items/{item}.gpg" })
            {
                // As a bearer token, as the browser cookie, and as both: the tool's token is no browser session.
                foreach (var headers in new[] { new[] { ("Authorization", $"Bearer {token}") }, [("Cookie", $"si_desk={token}")],
                    [("Authorization", $"Bearer {token}"), ("Cookie", $"si_desk={token}")] })
                {
                    using var request = Get(route, headers);
                    using var response = await bare.SendAsync(request);
                    AssertSentToSignIn(response, $"{route} with {string.Join(" and ", headers.Select(h => h.Item1))}");
                }
            }

            using var post = new HttpRequestMessage(HttpMethod.Post, $"/desk/submissions/{id}/status")
            {
                Content = new FormUrlEncodedContent([new("value", "discarded"), new("form", DeskSessions.FormToken(token))]),
            };
            post.Headers.Add("Cookie", $"si_desk={token}");
            AssertSentToSignIn(await bare.SendAsync(post), "a status post with the tool's token as cookie");

            foreach (var route in new[] { "/desk/api/submissions", $"/desk/api/submissions/{id}/archive" })
            {
                using var request = Get(route, ("Authorization", $"Bearer {session}"));
                using var response = await bare.SendAsync(request);
                Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{route} with the browser session as bearer: {response.StatusCode}");
            }

            Assert.Equal("new", await desk.ScalarAsync<string>($"SELECT status FROM submissions WHERE id = '{id}'"));
        }
    }

    [Fact]
    public async Task A_witness_session_opens_nothing_on_the_desk_or_its_api()
    {
        var (witness, jar) = NewBrowser(desk.Address);
        using (witness)
        {
            var form = WitnessForms.Multipart(await WitnessForms.TokenAsync(witness), "a witness who tries the desk");
            var codename = ReturnTests.CodenameIn(await (await witness.PostAsync(new Uri("/en/submit", UriKind.Relative), form)).Content.ReadAsStringAsync());
            using var signIn = await witness.PostAsync(new Uri("/en/return", UriKind.Relative),
                new FormUrlEncodedContent([new("token", await WitnessForms.TokenAsync(witness, "/en/return")), new("codename", codename)]));
            Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
            var session = jar.GetCookies(desk.Address)["si_witness"]?.Value;
            Assert.False(string.IsNullOrEmpty(session));
            Assert.Equal(HttpStatusCode.OK, (await witness.GetAsync(new Uri("/en/thread", UriKind.Relative))).StatusCode);

            using var bare = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = desk.DeskAddress };
            foreach (var headers in new[] { new[] { ("Cookie", $"si_witness={session}") }, [("Cookie", $"si_desk={session}")], [("Authorization", $"Bearer {session}")] })
            {
                foreach (var route in new[] { "/desk/api/submissions" })
                {
                    using var request = Get(route, headers);
                    using var response = await bare.SendAsync(request);
                    Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{route} with {headers[0]}: {response.StatusCode}");
                }

                using var page = Get("/desk", headers);
                AssertSentToSignIn(await bare.SendAsync(page), $"/desk with {headers[0]}");
            }
        }
    }

    [Fact]
    public async Task Anonymous_requests_for_a_real_submissions_archive_or_item_get_no_data()
    {
        var (id, item) = await SubmitAsync("not for strangers");
        using var anonymous = desk.NewDeskBrowser();

        foreach (var route in new[] { $"/desk/submissions/{id}/archive.zip", $"/desk/submissions/{id}/items/{item}.gpg", $"/desk/submissions/{id}" })
        {
            AssertSentToSignIn(await anonymous.GetAsync(new Uri(route, UriKind.Relative)), route);
        }

        using var api = await anonymous.GetAsync(new Uri($"/desk/api/submissions/{id}/archive", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
        Assert.Equal("application/problem+json", api.Content.Headers.ContentType!.MediaType);
        Assert.Equal(0L, await desk.ScalarAsync<long>($"SELECT count(*) FROM audit_log WHERE submission_id = '{id}' AND action IN ('downloaded archive', 'downloaded item', 'pulled archive', 'viewed')"));
    }

    [Fact]
    public async Task An_admins_second_factor_reset_ends_the_editors_browser_session_and_desk_tool_token_at_once()
    {
        var adminSecret = await desk.AddEditorAsync("olga", admin: true);
        using var olga = await desk.SignedInBrowserAsync("olga", adminSecret);
        var secret = await desk.AddEditorAsync("pete");
        using var pete = await desk.SignedInBrowserAsync("pete", secret);
        var token = await ToolTokenAsync("pete", secret);
        using var tool = new HttpClient { BaseAddress = desk.DeskAddress };
        tool.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(HttpStatusCode.OK, (await pete.GetAsync(new Uri("/desk", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await tool.GetAsync(new Uri("/desk/api/submissions", UriKind.Relative))).StatusCode);

        using var reset = await DeskService.PostDeskFormAsync(olga, "/desk/admin", "/desk/admin/editors/reset-2fa", ("name", "pete"));
        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        Assert.Contains("Second factor of pete reset", await reset.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        AssertSentToSignIn(await pete.GetAsync(new Uri("/desk", UriKind.Relative)), "pete's browser after the reset");
        Assert.Equal(HttpStatusCode.Unauthorized, (await tool.GetAsync(new Uri("/desk/api/submissions", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await olga.GetAsync(new Uri("/desk", UriKind.Relative))).StatusCode);
    }

    private static void AssertSentToSignIn(HttpResponseMessage response, string what)
    {
        using (response)
        {
            Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"{what}: {response.StatusCode}");
            Assert.Equal("/desk/sign-in", response.Headers.Location!.ToString());
            Assert.Equal(0, response.Content.Headers.ContentLength ?? 0);
        }
    }

    private static HttpRequestMessage Get(string route, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, route);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }

    private static (HttpClient Client, CookieContainer Jar) NewBrowser(Uri address)
    {
        var jar = new CookieContainer();
        return (new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = jar }) { BaseAddress = address }, jar);
    }

    private string DeskCookie(CookieContainer jar)
    {
        var value = jar.GetCookies(new Uri(desk.DeskAddress, "/desk"))["si_desk"]?.Value;
        Assert.False(string.IsNullOrEmpty(value), "no desk session cookie after sign-in");
        return value;
    }

    private async Task<string> ToolTokenAsync(string name, byte[] secret)
    {
        using var client = new HttpClient { BaseAddress = desk.DeskAddress };
        using var signIn = await client.PostAsJsonAsync(new Uri("/desk/api/sign-in", UriKind.Relative),
            new { name, password = DeskService.Password, code = desk.NextCode(name, secret) });
        Assert.Equal(HttpStatusCode.OK, signIn.StatusCode);
        return (await signIn.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("token").GetString()!;
    }

    /// <summary>A witness's submission; its id and its message item's id, read from the database as an attacker could not.</summary>
    private async Task<(Guid Id, Guid Item)> SubmitAsync(string message)
    {
        var known = await desk.ScalarAsync<string>("SELECT coalesce(string_agg(id::text, ','), '') FROM submissions");
        using var witness = desk.NewWitnessBrowser();
        using var submitted = await witness.PostAsync(new Uri("/en/submit", UriKind.Relative), WitnessForms.Multipart(await WitnessForms.TokenAsync(witness), message));
        Assert.Equal(HttpStatusCode.OK, submitted.StatusCode);
        var id = await desk.ScalarAsync<Guid>($"SELECT id FROM submissions WHERE NOT id::text = ANY(string_to_array('{known}', ','))");
        var item = await desk.ScalarAsync<Guid>($"SELECT id FROM submission_items WHERE submission_id = '{id}' AND kind = 'message'");
        return (id, item);
    }

    /// <summary>Everything an action could change about one submission, as text to compare.</summary>
    private Task<string> SubmissionStateAsync(Guid id) => desk.ScalarAsync<string>($"""
        SELECT coalesce((SELECT row_to_json(s)::text FROM submissions s WHERE id = '{id}'), 'deleted')
            || ' items ' || (SELECT count(*) FROM submission_items WHERE submission_id = '{id}')
            || ' events ' || (SELECT count(*) FROM submission_events WHERE submission_id = '{id}')
            || ' audit ' || (SELECT count(*) FROM audit_log WHERE submission_id = '{id}')
        """);

    /// <summary>Every editor, desk, key and session, as text to compare.</summary>
    private Task<string> AdminStateAsync() => desk.ScalarAsync<string>("""
        SELECT string_agg(t, E'\n' ORDER BY t) FROM (
            SELECT row_to_json(e)::text t FROM editors e
            UNION ALL SELECT row_to_json(d)::text FROM desks d
            UNION ALL SELECT row_to_json(k)::text FROM recipient_keys k
            UNION ALL SELECT encode(token_hash, 'hex') || editor_id FROM desk_sessions) rows
        """);
}
