using System.Net;
using System.Net.Http.Json;
using System.Text;

namespace SecureIntake.Server.Tests.Desk;

/// <summary>The desk answers only on its own listener, the witness pages only on theirs; which is which comes from the socket.</summary>
public sealed class DeskListenerTests(DeskService desk) : IClassFixture<DeskService>
{
    private static readonly string[] DeskRoutes = ["/desk", "/desk/sign-in", "/desk/hangfire", "/desk/api/submissions", "/desk/audit", "/DESK/Sign-In"];
    private static readonly string[] WitnessRoutes = ["/", "/en", "/ru", "/kk", "/en/submit", "/ru/return", "/kk/thread"];

    [Fact]
    public async Task Desk_routes_on_the_witness_listener_answer_exactly_like_an_unknown_path_even_with_the_desks_host_header()
    {
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = desk.Address };
        var unknown = await DescribeAsync(client, Get("/no-such-page"));
        Assert.StartsWith("404 ", unknown, StringComparison.Ordinal);
        var deskHost = $"127.0.0.1:{desk.DeskAddress.Port}";

        foreach (var route in DeskRoutes)
        {
            Assert.Equal(unknown, await DescribeAsync(client, Get(route)));
            Assert.Equal(unknown, await DescribeAsync(client, Get(route, deskHost)));
        }

        using var pageSignIn = new HttpRequestMessage(HttpMethod.Post, "/desk/sign-in")
        {
            Content = new FormUrlEncodedContent([new("name", "nobody"), new("password", "x"), new("code", "000000")]),
            Headers = { Host = deskHost },
        };
        Assert.Equal(unknown, await DescribeAsync(client, pageSignIn));
        using var apiSignIn = new HttpRequestMessage(HttpMethod.Post, "/desk/api/sign-in")
        {
            Content = JsonContent.Create(new { name = "nobody", password = "x", code = "000000" }),
            Headers = { Host = deskHost },
        };
        Assert.Equal(unknown, await DescribeAsync(client, apiSignIn));

        // The same routes are there on the desk listener, so the 404s above come from the split, not from a missing route.
        using var deskClient = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = desk.DeskAddress };
        using var signInPage = await deskClient.GetAsync(new Uri("/desk/sign-in", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, signInPage.StatusCode);
        using var dashboard = await deskClient.GetAsync(new Uri("/desk/hangfire", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, dashboard.StatusCode);
        Assert.Equal("/desk/sign-in", dashboard.Headers.Location!.ToString());
    }

    [Fact]
    public async Task A_signed_in_admins_session_does_not_open_the_desk_on_the_witness_listener()
    {
        var secret = await desk.AddEditorAsync("olga", admin: true);
        using var olga = await desk.SignedInBrowserAsync("olga", secret);
        using var onDesk = await olga.GetAsync(new Uri("/desk/hangfire", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, onDesk.StatusCode);

        // Cookies know no ports, so the browser sends the desk session to the witness listener too.
        foreach (var route in new[] { "/desk", "/desk/hangfire", "/desk/admin" })
        {
            using var response = await olga.GetAsync(new Uri(desk.Address, route));
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }
    }

    [Fact]
    public async Task Witness_pages_answer_404_on_the_desk_listener()
    {
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = desk.DeskAddress };
        var unknown = await DescribeAsync(client, Get("/no-such-page"));
        Assert.StartsWith("404 ", unknown, StringComparison.Ordinal);
        var witnessHost = $"127.0.0.1:{desk.Address.Port}";

        foreach (var route in WitnessRoutes)
        {
            Assert.Equal(unknown, await DescribeAsync(client, Get(route)));
            Assert.Equal(unknown, await DescribeAsync(client, Get(route, witnessHost)));
        }

        using var post = new HttpRequestMessage(HttpMethod.Post, "/en/submit") { Content = new StringContent("message=hello", Encoding.UTF8, "application/x-www-form-urlencoded") };
        Assert.Equal(unknown, await DescribeAsync(client, post));

        using var witness = desk.NewWitnessBrowser();
        using var landing = await witness.GetAsync(new Uri("/en", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, landing.StatusCode);
    }

    [Fact]
    public async Task Both_listeners_answer_the_health_check_robots_txt_and_the_stylesheet_the_desk_pages_use()
    {
        using var client = new HttpClient();
        foreach (var listener in new[] { desk.Address, desk.DeskAddress })
        {
            Assert.Equal("ok\n", await client.GetStringAsync(new Uri(listener, "/healthz")));
            Assert.Equal("User-agent: *\nDisallow: /\n", await client.GetStringAsync(new Uri(listener, "/robots.txt")));
            using var css = await client.GetAsync(new Uri(listener, "/static/site.css"));
            Assert.Equal(HttpStatusCode.OK, css.StatusCode);
            Assert.Equal("text/css", css.Content.Headers.ContentType!.MediaType);
        }

        Assert.Contains("href=\"/static/site.css\"", await client.GetStringAsync(new Uri(desk.DeskAddress, "/desk/sign-in")), StringComparison.Ordinal);
    }

    private static HttpRequestMessage Get(string path, string? host = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (host is not null)
        {
            request.Headers.Host = host;
        }

        return request;
    }

    /// <summary>Status, every header but Date, and the body: what a visitor could tell two answers apart by.</summary>
    private static async Task<string> DescribeAsync(HttpClient client, HttpRequestMessage request)
    {
        using (request)
        {
            using var response = await client.SendAsync(request);
            var headers = response.Headers.Concat(response.Content.Headers)
                .Where(h => h.Key != "Date")
                .Select(h => $"{h.Key}: {string.Join(", ", h.Value)}")
                .Order(StringComparer.Ordinal);
            return $"{(int)response.StatusCode} {string.Join("\n", headers)}\n\n{await response.Content.ReadAsStringAsync()}";
        }
    }
}
