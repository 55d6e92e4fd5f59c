using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Options;
using Npgsql;
using SecureIntake.Core.Blobs;
using SecureIntake.Core.Recipients;
using SecureIntake.Core.Replies;
using SecureIntake.Testing;

namespace SecureIntake.Server.Tests.Witness;

/// <summary>One `secureintake web` with tight limits, its own database and blob directory.</summary>
public sealed class WitnessService : IAsyncLifetime, IDisposable
{
    public const int MaxRequestBytes = 8 << 20;
    public const string OnionAddress = "secureintakeexampleonionaddressxxxxxxxxxxxxxxxxxxxxxxxxxxxx.onion";
    private readonly TemporaryDirectory _blobs = new("si-witness-blobs-");
    private WitnessServerProcess? _service;

    public string BlobDirectory => _blobs.Path;

    public string Database { get; private set; } = "";

    /// <summary>A client that keeps cookies like a browser; <see cref="Token"/> is its form token.</summary>
    public HttpClient Client { get; private set; } = null!;

    public string Token { get; private set; } = "";

    public ServerTestKeys Keys { get; } = new();

    public async Task InitializeAsync()
    {
        await Keys.InitializeAsync();
        Database = await (await PostgresCluster.GetSharedAsync()).CreateDatabaseAsync();
        (await SecureIntakeCli.RunAsync(Database, "keys", "add", Keys.Usable)).EnsureSuccess("keys add");
        _service = await WitnessServerProcess.StartAsync(Database,
            $"--Storage:BlobDirectory={_blobs.Path}", $"--Intake:MaxRequestBytes={MaxRequestBytes}", "--Intake:MaxFiles=3", "--Intake:MaxMessageCharacters=2000", "--Intake:MaxConcurrentSubmissions=1",
            "--Intake:AdmissionWaitSeconds=1", $"--Web:OnionAddress={OnionAddress}",
            // These tests post many times with one page's token; how often a token serves is tested in HostileRequestTests.
            "--Intake:PostsPerFormToken=1000");
        Client = WitnessForms.NewBrowserlikeClient(_service.Address);
        Token = await WitnessForms.TokenAsync(Client);
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        if (_service is not null)
        {
            await _service.DisposeAsync();
        }
    }

    public void Dispose()
    {
        Keys.Dispose();
        _blobs.Dispose();
    }

    /// <summary>An editor's reply, written as the desk will write it: through the core, to this service's database and blobs.</summary>
    public async Task ReplyAsync(Guid submission, string text)
    {
        await using var dataSource = NpgsqlDataSource.Create(Database);
        var blobs = new BlobStore(Options.Create(new BlobStoreOptions { BlobDirectory = BlobDirectory, MinimumFreeBytes = 0 }));
        var replies = new ThreadReplies(new RecipientStore(dataSource, TimeProvider.System), blobs, dataSource, TimeProvider.System);
        await replies.AddAsync(SecureIntake.Core.Editors.DeskScope.Everything, submission, text, CancellationToken.None);
    }

    public async Task<IReadOnlyList<Guid>> SubmissionIdsAsync()
    {
        await using var connection = new NpgsqlConnection(Database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT id FROM submissions", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var ids = new List<Guid>();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetGuid(0));
        }

        return ids;
    }

    public async Task<long> CountAsync(string table)
    {
        await using var connection = new NpgsqlConnection(Database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT count(*) FROM {table}", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Runs a post that must be refused and checks that it left nothing behind; see <see cref="NothingKept"/>.</summary>
    public Task AssertNothingStoredAsync(Func<Task> act, params string[] witnessContent) =>
        NothingKept.AssertAsync(_service!, BlobDirectory, async () =>
            [await CountAsync("submissions"), await CountAsync("submission_items"), await CountAsync("hangfire.job")], act, witnessContent);
}

public sealed class SubmitTests(WitnessService service) : IClassFixture<WitnessService>
{
    [Fact]
    public async Task A_message_and_files_are_stored_encrypted_and_gpg_decrypts_each_to_the_bytes_sent()
    {
        var message = "Стреляли у акимата в 14:10. Куәгер: мен көрдім.";
        var video = RandomBytes(3 << 20);
        var document = RandomBytes(70_001);
        var blobsBefore = Directory.GetFiles(service.BlobDirectory).ToHashSet();

        using var response = await PostAsync(Form(message, ("площадь.mp4", video), ("приказ.pdf", document)));

        var page = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, page);
        Assert.Contains("received", page, StringComparison.Ordinal);
        var newBlobs = Directory.GetFiles(service.BlobDirectory).Where(f => !blobsBefore.Contains(f)).ToList();
        Assert.Equal(4, newBlobs.Count); // message, two files, manifest
        var plaintexts = new List<byte[]>();
        foreach (var blob in newBlobs)
        {
            plaintexts.Add(await service.Keys.DecryptAsync(blob));
        }

        Assert.Contains(plaintexts, p => p.AsSpan().SequenceEqual(Encoding.UTF8.GetBytes(message)));
        Assert.Contains(plaintexts, p => p.AsSpan().SequenceEqual(video));
        Assert.Contains(plaintexts, p => p.AsSpan().SequenceEqual(document));
        Assert.Contains(plaintexts, p => Encoding.UTF8.GetString(p).Contains("площадь.mp4", StringComparison.Ordinal));
        Assert.All(newBlobs, b => Assert.DoesNotContain("площадь", b, StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_upload_over_the_size_limit_is_refused_with_413_and_nothing_is_kept()
    {
        await AssertNothingStoredAsync(async () =>
        {
            using var response = await PostAsync(Form("too big a video of the square", ("square-video.bin", RandomBytes(WitnessService.MaxRequestBytes + 1000))));
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
            Assert.Contains("Nothing of it was stored", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }, "too big a video of the square", "square-video.bin");
    }

    [Fact]
    public async Task An_upload_of_unknown_length_is_cut_off_at_the_limit_while_streaming_and_nothing_is_kept()
    {
        await AssertNothingStoredAsync(async () =>
        {
            var form = Form("sent in chunks from the square");
            // No Content-Length: the limit can only be found out by counting as the bytes arrive.
            var part = new StreamContent(new MemoryStream(RandomBytes(WitnessService.MaxRequestBytes + 100_000)));
            form.Add(part, "files", "chunked-video.bin");
            using var request = new HttpRequestMessage(HttpMethod.Post, "/en/submit") { Content = form };
            request.Headers.TransferEncodingChunked = true;
            using var response = await service.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        }, "sent in chunks from the square", "chunked-video.bin");
    }

    [Fact]
    public async Task More_files_than_allowed_are_refused_and_nothing_is_kept()
    {
        await AssertNothingStoredAsync(async () =>
        {
            using var response = await PostAsync(Form("four files of the square", ("order-a.pdf", [1]), ("order-b.pdf", [2]), ("order-c.pdf", [3]), ("order-d.pdf", [4])));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("At most 3 files", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }, "four files of the square", "order-a.pdf", "order-d.pdf");
    }

    [Fact]
    public async Task A_message_over_the_length_limit_is_refused_and_nothing_is_kept()
    {
        await AssertNothingStoredAsync(async () =>
        {
            using var response = await PostAsync(Form(new string('ж', 2001), ("long-statement.txt", [1, 2, 3])));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("longer than 2000 characters", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }, "жжжжжжжж", "long-statement.txt");
    }

    [Fact]
    public async Task An_empty_form_is_refused_with_a_clear_message()
    {
        await AssertNothingStoredAsync(async () =>
        {
            using var response = await PostAsync(Form(" \u2003\u2003\u2003 "));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("nothing to send", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }, "\u2003\u2003\u2003");
    }

    [Fact]
    public async Task A_filled_honeypot_is_refused_and_nothing_is_kept()
    {
        await AssertNothingStoredAsync(async () =>
        {
            var form = Form("buy pills");
            form.Add(new StringContent("http://spam.example"), "website");
            using var response = await PostAsync(form);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        }, "buy pills", "spam.example");
    }

    [Fact]
    public async Task A_post_another_site_made_the_browser_send_is_refused_and_nothing_is_kept()
    {
        await AssertNothingStoredAsync(async () =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/en/submit") { Content = Form("forged by another site") };
            request.Headers.Add("Sec-Fetch-Site", "cross-site");
            request.Headers.Add("Origin", "https://attacker.example");
            using var response = await service.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }, "forged by another site");
    }

    [Fact]
    public async Task A_post_without_the_forms_token_or_with_another_browsers_token_is_refused_and_nothing_is_kept()
    {
        using var otherBrowser = WitnessForms.NewBrowserlikeClient(service.Client.BaseAddress!);
        var otherToken = await WitnessForms.TokenAsync(otherBrowser);

        await AssertNothingStoredAsync(async () =>
        {
            using var withoutToken = await PostAsync(new MultipartFormDataContent { { new StringContent("no token", Encoding.UTF8), "message" } });
            Assert.Equal(HttpStatusCode.Forbidden, withoutToken.StatusCode);
            Assert.Contains("reload the page", await withoutToken.Content.ReadAsStringAsync(), StringComparison.Ordinal);

            using var someoneElses = await PostAsync(WitnessForms.Multipart(otherToken, "token from another browser"));
            Assert.Equal(HttpStatusCode.Forbidden, someoneElses.StatusCode);

            using var noCookie = new HttpClient { BaseAddress = service.Client.BaseAddress };
            using var cookieless = await noCookie.PostAsync(new Uri("/en/submit", UriKind.Relative), Form("right token, no cookie"));
            Assert.Equal(HttpStatusCode.Forbidden, cookieless.StatusCode);
        }, "no token", "token from another browser", "right token, no cookie");
    }

    [Fact]
    public async Task A_same_origin_post_with_origin_null_is_accepted_as_browsers_send_it_under_no_referrer()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/en/submit") { Content = Form("from our own form") };
        request.Headers.Add("Sec-Fetch-Site", "same-origin");
        request.Headers.Add("Origin", "null");

        using var response = await service.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Posts_beyond_the_concurrency_limit_wait_a_bounded_while_then_get_the_busy_page_with_retry_after()
    {
        // The first post stalls half-way, holding the only place; the second waits a second for it, then is turned away.
        var release = new TaskCompletionSource();
        var stalled = WitnessForms.Multipart(service.Token, "slow");
        stalled.Add(new StalledContent(release.Task), "files", "slow.bin");
        using var first = new HttpRequestMessage(HttpMethod.Post, "/en/submit") { Content = stalled };
        first.Headers.TransferEncodingChunked = true;
        var blobs = Directory.GetFiles(service.BlobDirectory).Length;
        var firstResponse = service.Client.SendAsync(first);
        try
        {
            // Its message and the start of its file are stored (as pending blobs) only once it holds the place.
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (Directory.GetFiles(service.BlobDirectory).Length < blobs + 2)
            {
                Assert.False(firstResponse.IsCompleted, "the first post ended before it stalled");
                Assert.True(DateTime.UtcNow < deadline, "the first post stored nothing within 60 s");
                await Task.Delay(20);
            }

            await AssertNothingStoredAsync(async () =>
            {
                using var second = await PostAsync(Form("meanwhile"));
                Assert.Equal(HttpStatusCode.ServiceUnavailable, second.StatusCode);
                Assert.Equal(TimeSpan.FromMinutes(1), second.Headers.RetryAfter?.Delta);
                Assert.Contains("Please try again in 1 minute.", await second.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }, "meanwhile");
        }
        finally
        {
            release.TrySetResult();
        }

        using var firstResult = await firstResponse;
        Assert.Equal(HttpStatusCode.OK, firstResult.StatusCode);
    }

    [Fact]
    public async Task A_post_that_is_not_multipart_gets_415()
    {
        using var response = await service.Client.PostAsync(new Uri("/en/submit", UriKind.Relative),
            new FormUrlEncodedContent([new KeyValuePair<string, string>("message", "hello")]));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    private Task AssertNothingStoredAsync(Func<Task> act, params string[] witnessContent) => service.AssertNothingStoredAsync(act, witnessContent);

    private Task<HttpResponseMessage> PostAsync(MultipartFormDataContent form) =>
        service.Client.PostAsync(new Uri("/en/submit", UriKind.Relative), form);

    private MultipartFormDataContent Form(string message, params (string Name, byte[] Content)[] files)
    {
        var form = WitnessForms.Multipart(service.Token, message);
        foreach (var (name, content) in files)
        {
            var part = new ByteArrayContent(content);
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(part, "files", name);
        }

        return form;
    }

    /// <summary>A file part that sends some bytes, then waits until released before sending the rest.</summary>
    private sealed class StalledContent(Task release) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            await stream.WriteAsync(new byte[100_000]);
            await stream.FlushAsync();
            await release;
            await stream.WriteAsync(new byte[100_000]);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    private static byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        Random.Shared.NextBytes(bytes);
        return bytes;
    }
}
