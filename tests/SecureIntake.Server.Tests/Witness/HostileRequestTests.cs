using System.Net;
using System.Text;
using Npgsql;

namespace SecureIntake.Server.Tests.Witness;

/// <summary>
/// One `secureintake web` with small limits and short time-outs, for requests an attacker (or a broken link)
/// sends: every one gets a 4xx page in the witness's language and leaves nothing behind.
/// </summary>
public sealed class HostileService() : WitnessTestService("si-hostile-blobs-", $"--Intake:MaxRequestBytes={MaxRequestBytes}",
    $"--Intake:StallSeconds={StallSeconds}", "--Intake:MaxConcurrentSubmissions=1", "--Intake:AdmissionWaitSeconds=1", "--Intake:MaxWaitingCodenameChecks=0")
{
    public const int MaxRequestBytes = 1 << 20;
    public const int StallSeconds = 3;
}

public sealed class HostileRequestTests(HostileService service) : IClassFixture<HostileService>
{
    private const string Boundary = "XYZ";
    private const string RussianMalformed = "Отправка пришла неполной или повреждённой";

    public static TheoryData<string> BrokenBodies => ["boundary differs", "unterminated", "cut off in a file", "garbage", "empty", "a field our form never sends",
        "content in an empty file input"];

    [Theory]
    [MemberData(nameof(BrokenBodies))]
    public async Task A_broken_multipart_body_gets_400_in_the_witness_language_and_nothing_is_kept(string kind)
    {
        var (cookie, token) = await service.FormAsync();
        var tokenPart = TokenPart(token);
        var body = kind switch
        {
            "boundary differs" => [.. Encoding.ASCII.GetBytes(tokenPart.Replace(Boundary, "ABC", StringComparison.Ordinal)), .. "--ABC--\r\n"u8],
            "unterminated" => Encoding.UTF8.GetBytes(tokenPart + "--XYZ\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\nВ 14:10 стреляли"),
            "cut off in a file" => [.. Encoding.UTF8.GetBytes(tokenPart + FilePartHead("видео.mp4")), .. new byte[200_000]],
            "garbage" => [0, 0xff, .. "not multipart at all"u8],
            "a field our form never sends" => Encoding.UTF8.GetBytes(tokenPart + "--XYZ\r\nContent-Disposition: form-data; name=\"padding\"\r\n\r\nxxxx\r\n--XYZ--\r\n"),
            "content in an empty file input" => Encoding.UTF8.GetBytes(tokenPart + FilePartHead("") + "hidden\r\n--XYZ--\r\n"),
            _ => Array.Empty<byte>(),
        };

        await service.AssertNothingStoredAsync(async () =>
        {
            var response = await PostAsync("/ru/submit", cookie, body);
            AssertRussianPage(response, HttpStatusCode.BadRequest, RussianMalformed);
        }, "В 14:10 стреляли", "видео.mp4", "hidden", token);
    }

    [Fact]
    public async Task A_chunked_body_over_the_limit_gets_413_in_the_witness_language_and_nothing_is_kept()
    {
        var (cookie, token) = await service.FormAsync();
        var content = Encoding.ASCII.GetBytes(TokenPart(token) + FilePartHead("square-video.bin"));
        var chunked = new MemoryStream();
        WriteChunk(chunked, content);
        for (var sent = 0; sent <= HostileService.MaxRequestBytes; sent += 64 * 1024)
        {
            WriteChunk(chunked, new byte[64 * 1024]);
        }

        WriteChunk(chunked, "\r\n--XYZ--\r\n"u8.ToArray());
        WriteChunk(chunked, []);

        await service.AssertNothingStoredAsync(async () =>
        {
            var response = await RawHttp.SendAsync(service.Address, RawHttp.Request("POST", "/ru/submit", service.Address, cookie, $"multipart/form-data; boundary={Boundary}",
                ["Transfer-Encoding: chunked"], chunked.ToArray(), contentLength: false));
            AssertRussianPage(response, HttpStatusCode.RequestEntityTooLarge, "Отправка больше 1 МБ");
        }, "square-video.bin", token);
    }

    [Fact]
    public async Task A_body_framed_both_by_length_and_as_chunked_is_read_as_chunked_and_the_connection_closed_after_it()
    {
        // RFC 9112, section 6.1: the server may process it by Transfer-Encoding alone, and must then close the
        // connection, so that what a proxy in front took for the next request is never read as one.
        var (cookie, token) = await service.FormAsync();
        var content = Encoding.UTF8.GetBytes(TokenPart(token) + "--XYZ\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\nпривет\r\n--XYZ--\r\n");
        var chunked = new MemoryStream();
        WriteChunk(chunked, content);
        WriteChunk(chunked, []);
        chunked.Write("GET /ru HTTP/1.1\r\nHost: smuggled\r\n\r\n"u8);

        await using var connection = await RawHttp.ConnectAsync(service.Address);
        await connection.WriteAsync(RawHttp.Request("POST", "/ru/submit", service.Address, cookie, $"multipart/form-data; boundary={Boundary}",
            ["Transfer-Encoding: chunked", "Content-Length: 10"], chunked.ToArray(), contentLength: false));
        var response = await connection.ReadResponseAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(200, response.Status);
        Assert.Equal("close", response.Headers["Connection"]);
        Assert.Equal("", await connection.ReadUntilClosedAsync(TimeSpan.FromSeconds(30)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_post_that_stops_sending_ends_with_408_and_the_connection_closed_and_nothing_is_kept(bool afterTheToken)
    {
        var (cookie, token) = await service.FormAsync();
        var sent = afterTheToken ? TokenPart(token) + FilePartHead("видео.mp4") + new string('x', 10_000) : "--XYZ\r\n";

        await service.AssertNothingStoredAsync(async () =>
        {
            await using var connection = await RawHttp.ConnectAsync(service.Address);
            await connection.WriteAsync(RawHttp.Request("POST", "/ru/submit", service.Address, cookie, $"multipart/form-data; boundary={Boundary}",
                ["Content-Length: 500000"], Encoding.UTF8.GetBytes(sent), contentLength: false));

            var response = await connection.ReadResponseAsync(TimeSpan.FromSeconds(HostileService.StallSeconds + 60));
            AssertRussianPage(response, HttpStatusCode.RequestTimeout, "Соединение слишком долго ничего не передавало");
            Assert.True(await connection.ClosedByServerAsync(TimeSpan.FromSeconds(30)));
        }, "видео.mp4", token);
    }

    [Fact]
    public async Task Idle_posts_without_a_token_hold_no_place_and_a_witness_still_gets_through()
    {
        // The service takes one post at a time; before this was fixed, one idle post took that place.
        var idle = new List<RawHttp>();
        try
        {
            for (var i = 0; i < 8; i++)
            {
                var connection = await RawHttp.ConnectAsync(service.Address);
                idle.Add(connection);
                await connection.WriteAsync(RawHttp.Request("POST", "/ru/submit", service.Address, null, $"multipart/form-data; boundary={Boundary}",
                    ["Content-Length: 900000"], "--XYZ\r\n"u8.ToArray(), contentLength: false));
            }

            var (cookie, token) = await service.FormAsync();
            var body = Encoding.UTF8.GetBytes(TokenPart(token) + "--XYZ\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\nЯ видел это\r\n--XYZ--\r\n");
            var response = await PostAsync("/ru/submit", cookie, body);

            Assert.Equal(200, response.Status);
            Assert.Contains("id=\"your-codename\"", response.Body, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var connection in idle)
            {
                await connection.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_form_already_received_is_refused_when_sent_again_but_a_refused_one_can_be_sent_again()
    {
        var (cookie, token) = await service.FormAsync();
        var broken = Encoding.UTF8.GetBytes(TokenPart(token) + "--XYZ\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\nобрыв");
        var whole = Encoding.UTF8.GetBytes(TokenPart(token) + "--XYZ\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\nцеликом\r\n--XYZ--\r\n");

        Assert.Equal(400, (await PostAsync("/ru/submit", cookie, broken)).Status);
        Assert.Equal(200, (await PostAsync("/ru/submit", cookie, whole)).Status);
        await service.AssertNothingStoredAsync(async () =>
        {
            var again = await PostAsync("/ru/submit", cookie, whole);
            AssertRussianPage(again, HttpStatusCode.Forbidden, "Срок действия формы истёк");
        }, "целиком", token);
    }

    [Theory]
    [InlineData(10_000)]
    [InlineData(200_000)]
    public async Task An_absurdly_long_codename_gets_the_not_found_page_at_once(int words)
    {
        var (cookie, token) = await service.FormAsync("/ru/return");
        var body = Encoding.ASCII.GetBytes($"token={token}&codename=" + string.Join('+', Enumerable.Repeat("word", words)));

        var response = await RawHttp.SendAsync(service.Address, RawHttp.Request("POST", "/ru/return", service.Address, cookie, "application/x-www-form-urlencoded", [], body));

        AssertRussianPage(response, HttpStatusCode.BadRequest, "Такое кодовое имя не найдено");
    }

    [Fact]
    public async Task Codename_checks_beyond_the_queue_get_the_busy_page_with_retry_after()
    {
        var forms = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => service.FormAsync("/ru/return")));

        var responses = await Task.WhenAll(forms.Select(form => RawHttp.SendAsync(service.Address, RawHttp.Request("POST", "/ru/return", service.Address, form.Cookie,
            "application/x-www-form-urlencoded", [], Encoding.ASCII.GetBytes($"token={form.Token}&codename=one+two+three+four+five+six+seven")))));

        // Two checks run at once and none may wait: each takes at least a second, so most of eight sent together are turned away.
        Assert.All(responses, r => Assert.True(r.Status is 400 or 503, r.Status.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var busy = responses.Where(r => r.Status == 503).ToList();
        Assert.NotEmpty(busy);
        Assert.All(busy, r =>
        {
            Assert.Equal("60", r.Headers["Retry-After"]);
            AssertRussianPage(r, HttpStatusCode.ServiceUnavailable, "попробуйте снова через 1 минуту");
        });
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/ru")]
    [InlineData("/ru/submit")]
    [InlineData("/ru/return")]
    [InlineData("/ru/thread")]
    [InlineData("/static/site.css")]
    public async Task HEAD_answers_like_GET_without_a_body(string path)
    {
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = service.Address };
        using var get = await client.GetAsync(new Uri(path, UriKind.Relative));
        using var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));

        Assert.Equal(get.StatusCode, head.StatusCode);
        Assert.Equal(get.Content.Headers.ContentType, head.Content.Headers.ContentType);
        Assert.Equal(get.Headers.CacheControl, head.Headers.CacheControl);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task A_follow_up_on_a_thread_the_editors_deleted_gets_410_in_the_witness_language_and_signs_out()
    {
        using var witness = WitnessForms.NewBrowserlikeClient(service.Address);
        using var receipt = await witness.PostAsync(new Uri("/ru/submit", UriKind.Relative), WitnessForms.Multipart(await WitnessForms.TokenAsync(witness, "/ru/submit"), "первое"));
        var codename = ReturnTests.CodenameIn(await receipt.Content.ReadAsStringAsync());
        using var signIn = await witness.PostAsync(new Uri("/ru/return", UriKind.Relative),
            new FormUrlEncodedContent([new("token", await WitnessForms.TokenAsync(witness, "/ru/return")), new("codename", codename)]));
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        var token = await WitnessForms.TokenAsync(witness, "/ru/thread");
        await using (var connection = new NpgsqlConnection(service.Database))
        {
            await connection.OpenAsync();
            await using var delete = new NpgsqlCommand("DELETE FROM submissions", connection);
            await delete.ExecuteNonQueryAsync();
        }

        await service.AssertNothingStoredAsync(async () =>
        {
            using var followUp = await witness.PostAsync(new Uri("/ru/thread", UriKind.Relative), WitnessForms.Multipart(token, "второе"));
            var page = await followUp.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.Gone, followUp.StatusCode);
            Assert.Contains("<html lang=\"ru\">", page, StringComparison.Ordinal);
            Assert.Contains("Этой отправки больше нет", page, StringComparison.Ordinal);
        }, "второе", codename);
        using var thread = await witness.GetAsync(new Uri("/ru/thread", UriKind.Relative));
        Assert.Equal("/ru/return", thread.Headers.Location?.ToString());
    }

    [Fact]
    public async Task A_follow_up_without_its_token_with_another_sessions_token_or_with_a_used_one_is_refused_in_the_witness_language_and_nothing_is_kept()
    {
        using var witness = WitnessForms.NewBrowserlikeClient(service.Address);
        var codename = await SignedInAsync(witness);
        using var someoneElse = WitnessForms.NewBrowserlikeClient(service.Address);
        await SignedInAsync(someoneElse);
        var othersToken = await WitnessForms.TokenAsync(someoneElse, "/ru/thread");
        var token = await WitnessForms.TokenAsync(witness, "/ru/thread");
        using (var answer = await witness.PostAsync(new Uri("/ru/thread", UriKind.Relative), WitnessForms.Multipart(token, "ответ на вопрос")))
        {
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode); // the session is live and this token is good: only what changes below is refused
        }

        await service.AssertNothingStoredAsync(async () =>
        {
            var withoutToken = new MultipartFormDataContent { { new StringContent("без токена", Encoding.UTF8), "message" } };
            var forms = new[] { ("no token", withoutToken), ("another session's", WitnessForms.Multipart(othersToken, "чужой токен")), ("used", WitnessForms.Multipart(token, "токен повторно")) };
            foreach (var (which, form) in forms)
            {
                using var refused = await witness.PostAsync(new Uri("/ru/thread", UriKind.Relative), form);
                var page = await refused.Content.ReadAsStringAsync();
                Assert.True(refused.StatusCode == HttpStatusCode.Forbidden, $"{which} token: {(int)refused.StatusCode} {page}");
                Assert.Contains("<html lang=\"ru\">", page, StringComparison.Ordinal);
                Assert.Contains("Срок действия формы истёк", page, StringComparison.Ordinal);
            }
        }, "без токена", "чужой токен", "токен повторно", codename);
    }

    /// <summary>A witness who submitted on the Russian form and came back with the codename; returns it.</summary>
    private static async Task<string> SignedInAsync(HttpClient witness)
    {
        using var receipt = await witness.PostAsync(new Uri("/ru/submit", UriKind.Relative), WitnessForms.Multipart(await WitnessForms.TokenAsync(witness, "/ru/submit"), "первое"));
        var codename = ReturnTests.CodenameIn(await receipt.Content.ReadAsStringAsync());
        using var signIn = await witness.PostAsync(new Uri("/ru/return", UriKind.Relative),
            new FormUrlEncodedContent([new("token", await WitnessForms.TokenAsync(witness, "/ru/return")), new("codename", codename)]));
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        return codename;
    }

    private Task<RawResponse> PostAsync(string path, string cookie, byte[] body) =>
        RawHttp.SendAsync(service.Address, RawHttp.Request("POST", path, service.Address, cookie, $"multipart/form-data; boundary={Boundary}", [], body));

    private static string TokenPart(string token) => $"--{Boundary}\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\n{token}\r\n";

    private static string FilePartHead(string name) =>
        $"--{Boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n";

    private static void WriteChunk(Stream stream, byte[] chunk)
    {
        stream.Write(Encoding.ASCII.GetBytes($"{chunk.Length:x}\r\n"));
        stream.Write(chunk);
        stream.Write("\r\n"u8);
    }

    private static void AssertRussianPage(RawResponse response, HttpStatusCode status, string text)
    {
        Assert.True((int)status == response.Status, $"{response.Status}: {response.Body}");
        Assert.Contains("<html lang=\"ru\">", response.Body, StringComparison.Ordinal);
        Assert.Contains(text, response.Body, StringComparison.Ordinal);
    }
}
