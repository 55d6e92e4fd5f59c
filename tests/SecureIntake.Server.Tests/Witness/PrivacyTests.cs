using System.Text;
using SecureIntake.Testing;

namespace SecureIntake.Server.Tests.Witness;

/// <summary>What the service writes down about a witness: nothing that identifies them, even at Debug level.</summary>
public sealed class PrivacyTests(ServerTestKeys keys) : IClassFixture<ServerTestKeys>, IDisposable
{
    private const string UserAgent = "Mozilla/5.0 (WitnessPhone-7f3a9c) Gecko/20100101 Firefox/128.0";
    private const string ForwardedFor = "203.0.113.77";
    private const string Referrer = "http://referrer-marker-5d1e.example/page";
    private const string Message = "message-marker-3b7e: стреляли у акимата";
    private const string FileName = "file-name-marker-a4c2.pdf";
    private const string FileContent = "file-content-marker-e90d";
    private const string FollowUp = "follow-up-marker-62fa";
    private readonly TemporaryDirectory _blobs = new("si-privacy-blobs-");

    [Fact]
    public async Task Nothing_about_the_witness_reaches_the_logs_or_the_database()
    {
        var database = await (await PostgresCluster.GetSharedAsync()).CreateDatabaseAsync();
        (await SecureIntakeCli.RunAsync(database, "keys", "add", keys.Usable)).EnsureSuccess("keys add");
        await using var service = SecureIntakeCli.Start(database, "web", $"--Storage:BlobDirectory={_blobs.Path}", "--Logging:LogLevel:Default=Debug",
            "--Logging:LogLevel:Microsoft.AspNetCore=Debug");
        await service.WaitUntilReadyAsync();
        using var client = WitnessForms.NewBrowserlikeClient(service.Address);

        foreach (var path in new[] { "/en", "/en/submit" })
        {
            using var page = new HttpRequestMessage(HttpMethod.Get, path);
            AddIdentifyingHeaders(page);
            (await client.SendAsync(page)).EnsureSuccessStatusCode();
        }

        var form = WitnessForms.Multipart(await WitnessForms.TokenAsync(client), Message);
        form.Add(new ByteArrayContent(Encoding.UTF8.GetBytes(FileContent)), "files", FileName);
        using var post = new HttpRequestMessage(HttpMethod.Post, "/en/submit") { Content = form };
        AddIdentifyingHeaders(post);
        using var receipt = await client.SendAsync(post);
        receipt.EnsureSuccessStatusCode();
        var codename = ReturnTests.CodenameIn(await receipt.Content.ReadAsStringAsync());

        // The witness comes back with the codename and answers: the codename and the follow-up go through the logs' reach too.
        using var signIn = new HttpRequestMessage(HttpMethod.Post, "/en/return")
        {
            Content = new FormUrlEncodedContent([new("token", await WitnessForms.TokenAsync(client, "/en/return")), new("codename", codename)]),
        };
        AddIdentifyingHeaders(signIn);
        Assert.Equal(System.Net.HttpStatusCode.Redirect, (await client.SendAsync(signIn)).StatusCode);
        var followUp = WitnessForms.Multipart(await WitnessForms.TokenAsync(client, "/en/thread"), FollowUp);
        (await client.PostAsync(new Uri("/en/thread", UriKind.Relative), followUp)).EnsureSuccessStatusCode();
        var (_, logs) = await service.StopAsync();
        var connection = new Npgsql.NpgsqlConnectionStringBuilder(database);
        var dump = (await ExternalTool.RunAsync(ExternalTool.Require("pg_dump", "postgresql-client"),
            ["--data-only", "-h", connection.Host!, "-p", connection.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", connection.Username!, connection.Database!]))
            .EnsureSuccess("pg_dump").OutputText;

        Assert.Contains("Application is shutting down", logs, StringComparison.Ordinal); // the logs were really read
        Assert.Contains("COPY public.submission_items", dump, StringComparison.Ordinal); // and so was the database
        Assert.Contains("POST", logs, StringComparison.Ordinal); // at Debug, the requests themselves were logged
        foreach (var marker in new[] { "WitnessPhone-7f3a9c", ForwardedFor, "referrer-marker-5d1e", Message, FileName, FileContent, FollowUp, codename })
        {
            Assert.DoesNotContain(marker, logs, StringComparison.Ordinal);
            Assert.DoesNotContain(marker, dump, StringComparison.Ordinal);
        }

    }

    [Fact]
    public async Task Refused_and_broken_posts_leave_no_content_and_no_failure_in_the_logs()
    {
        const string Marker = "content-marker-91c4";
        var database = await (await PostgresCluster.GetSharedAsync()).CreateDatabaseAsync();
        (await SecureIntakeCli.RunAsync(database, "keys", "add", keys.Usable)).EnsureSuccess("keys add");
        await using var service = SecureIntakeCli.Start(database, "web", $"--Storage:BlobDirectory={_blobs.Path}", "--Logging:LogLevel:Default=Debug",
            "--Logging:LogLevel:Microsoft.AspNetCore=Debug", "--Intake:MaxRequestBytes=65536", "--Intake:StallSeconds=2");
        await service.WaitUntilReadyAsync();
        var cookies = new System.Net.CookieContainer();
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = cookies }) { BaseAddress = service.Address };
        var token = await WitnessForms.TokenAsync(client, "/en/submit");
        var part = $"--XYZ\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\n{token}\r\n--XYZ\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\n{Marker}";
        string[] bodies = [part, part + "\r\n--XYZ\r\nContent-Disposition: form-data; name=\"files\"; filename=\"" + Marker + ".pdf\"\r\n\r\n"
            + string.Concat(Enumerable.Repeat(FileContent, 3000)), Marker];

        foreach (var body in bodies)
        {
            using var post = new HttpRequestMessage(HttpMethod.Post, "/en/submit") { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) };
            post.Content.Headers.TryAddWithoutValidation("Content-Type", "multipart/form-data; boundary=XYZ");
            using var response = await client.SendAsync(post);
            Assert.InRange((int)response.StatusCode, 400, 499);
        }

        // A post that stalls before and after its token: ended with 408, and Kestrel must not fail draining it afterwards.
        foreach (var sent in new[] { "--XYZ\r\n", part })
        {
            await using var stalled = await RawHttp.ConnectAsync(service.Address);
            await stalled.WriteAsync(RawHttp.Request("POST", "/en/submit", service.Address, $"si_form={cookies.GetCookies(service.Address)["si_form"]!.Value}",
                "multipart/form-data; boundary=XYZ", ["Content-Length: 60000"], Encoding.UTF8.GetBytes(sent), contentLength: false));
            Assert.Equal(408, (await stalled.ReadResponseAsync(TimeSpan.FromSeconds(60))).Status);
            Assert.True(await stalled.ClosedByServerAsync(TimeSpan.FromSeconds(30)));
        }

        using var returned = await client.PostAsync(new Uri("/en/return", UriKind.Relative), new FormUrlEncodedContent(
            [new("token", await WitnessForms.TokenAsync(client, "/en/return")), new("codename", string.Join(' ', Enumerable.Repeat(Marker, 5000)))]));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, returned.StatusCode);
        var (_, logs) = await service.StopAsync();

        Assert.Contains("Application is shutting down", logs, StringComparison.Ordinal);
        Assert.DoesNotContain(Marker, logs, StringComparison.Ordinal); // message, file name and codename of every refused post
        Assert.DoesNotContain(FileContent, logs, StringComparison.Ordinal);
        var failure = logs.IndexOf("fail:", StringComparison.Ordinal);
        Assert.True(failure < 0, failure < 0 ? "" : logs[failure..Math.Min(logs.Length, failure + 800)]);
        Assert.DoesNotContain("A request failed", logs, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_blobs.Path));
    }

    public void Dispose() => _blobs.Dispose();


    private static void AddIdentifyingHeaders(HttpRequestMessage request)
    {
        request.Headers.UserAgent.ParseAdd(UserAgent);
        request.Headers.Add("X-Forwarded-For", ForwardedFor);
        request.Headers.Referrer = new Uri(Referrer);
    }
}
