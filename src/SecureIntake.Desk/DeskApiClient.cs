using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using SecureIntake.Contracts;

namespace SecureIntake.Desk;

/// <summary>
/// The server's desk API, as the editor's own machine sees it. Every failure becomes a
/// <see cref="DeskToolException"/> that says what to do next.
/// </summary>
internal sealed partial class DeskApiClient : IDisposable
{
    private const int MaxProblemBytes = 64 * 1024;

    private readonly HttpClient _http;

    private DeskApiClient(string server, string? token)
    {
        Server = DeskServerAddress.Parse(server);
        var handler = new SocketsHttpHandler
        {
            // A redirect would re-send the password, or the token, somewhere the editor did not name.
            AllowAutoRedirect = false,
            UseCookies = false,
            // A proxy from the environment must not see a loopback (plain http) conversation.
            UseProxy = !DeskServerAddress.IsLoopback(new Uri(Server)),
            ConnectTimeout = TimeSpan.FromSeconds(30),
        };
        _http = new HttpClient(handler, disposeHandler: true) { Timeout = TimeSpan.FromMinutes(2) };
        _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (token is not null)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    private enum Call
    {
        SignIn,
        List,
        Archive,
    }

    public string Server { get; }

    public static DeskApiClient Anonymous(string server) => new(server, token: null);

    public static DeskApiClient ForSession(DeskSession session) => new(session.Server, session.Token);

    public void Dispose() => _http.Dispose();

    public async Task<SignInResponse> SignInAsync(string name, string password, string code, CancellationToken cancellationToken)
    {
        using var body = JsonContent.Create(new SignInRequest(name, password, code), ContractJson.Default.SignInRequest);
        var answer = await ReadJsonAsync(
            () => _http.PostAsync(new Uri($"{Server}/desk/api/sign-in"), body, cancellationToken), Call.SignIn, ContractJson.Default.SignInResponse, cancellationToken);

        // The token goes into a header on every later call; anything but visible ASCII there would be a header injection.
        if (answer.Token.Length == 0 || answer.Token.Any(c => c is < '!' or > '~'))
        {
            throw new DeskToolException("the server's sign-in answer holds no usable token; is this a SecureIntake desk?");
        }

        return answer;
    }

    public Task<SubmissionPage> ListAsync(string? status, int? page, CancellationToken cancellationToken)
    {
        var query = new List<string>();
        if (status is not null)
        {
            query.Add("status=" + Uri.EscapeDataString(status));
        }

        if (page is not null)
        {
            query.Add(string.Create(CultureInfo.InvariantCulture, $"page={page}"));
        }

        var address = new Uri($"{Server}/desk/api/submissions" + (query.Count > 0 ? "?" + string.Join('&', query) : ""));
        return ReadJsonAsync(() => _http.GetAsync(address, cancellationToken), Call.List, ContractJson.Default.SubmissionPage, cancellationToken);
    }

    /// <summary>Streams the archive into <paramref name="destination"/>: a submission may hold gigabytes of video.</summary>
    public async Task DownloadArchiveAsync(Guid submission, Stream destination, CancellationToken cancellationToken)
    {
        var address = new Uri($"{Server}/desk/api/submissions/{submission:D}/archive");
        using var response = await SendAsync(
            () => _http.GetAsync(address, HttpCompletionOption.ResponseHeadersRead, cancellationToken), cancellationToken);
        await EnsureSuccessAsync(response, Call.Archive, cancellationToken);
        try
        {
            await response.Content.CopyToAsync(destination, cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            throw new DeskToolException($"the download from {Server} broke off ({e.Message}); try again");
        }
    }

    private async Task<T> ReadJsonAsync<T>(Func<Task<HttpResponseMessage>> send, Call call, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(send, cancellationToken);
        await EnsureSuccessAsync(response, call, cancellationToken);
        try
        {
            return await response.Content.ReadFromJsonAsync(type, cancellationToken)
                ?? throw new JsonException("the answer is null");
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or HttpRequestException)
        {
            throw new DeskToolException($"the answer from {Server} is not what this version of secureintake-desk expects ({TerminalText.Clean(e.Message)})");
        }
    }

    private async Task<HttpResponseMessage> SendAsync(Func<Task<HttpResponseMessage>> send, CancellationToken cancellationToken)
    {
        try
        {
            return await send();
        }
        catch (HttpRequestException e)
        {
            var reason = e.InnerException is { } inner ? $"{e.Message} {inner.Message}" : e.Message;
            throw new DeskToolException($"cannot reach {Server}: {reason}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new DeskToolException($"{Server} did not answer in time; try again later");
        }
    }

    private async Task EnsureSuccessAsync(HttpResponseMessage response, Call call, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var status = (int)response.StatusCode;
        if (status is >= 300 and < 400)
        {
            var location = TerminalText.Clean(response.Headers.Location?.ToString());
            throw new DeskToolException($"{Server} answered with a redirect to '{location}'; if that is the desk, sign in with that address");
        }

        var problem = await ReadProblemAsync(response, cancellationToken);
        var detail = TerminalText.Clean(problem?.Detail);
        var title = TerminalText.Clean(problem?.Title);
        throw new DeskToolException((response.StatusCode, call) switch
        {
            (HttpStatusCode.Unauthorized, Call.SignIn) =>
                "sign-in refused: " + Or(detail, "the name, password or code is wrong, or the account is disabled"),
            (HttpStatusCode.Unauthorized, _) =>
                "the desk did not accept your session (it expired or was ended); run `secureintake-desk login` again",
            (HttpStatusCode.TooManyRequests, _) =>
                "the server refuses for now, after too many attempts: " + Or(detail, RetryAfter(response)),
            (HttpStatusCode.NotFound, Call.Archive) =>
                "there is no such submission on the desk" + (detail.Length > 0 ? $": {detail}" : ""),
            _ => $"{Server} answered {status} {Or(title, response.ReasonPhrase ?? "")}" + (detail.Length > 0 ? $": {detail}" : ""),
        });
    }

    private static async Task<Problem?> ReadProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentType?.MediaType is not ("application/problem+json" or "application/json"))
        {
            return null;
        }

        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            var buffer = new byte[MaxProblemBytes];
            var length = await body.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
            return JsonSerializer.Deserialize(buffer.AsSpan(0, length), DeskJson.Default.Problem);
        }
        catch (Exception e) when (e is JsonException or HttpRequestException or IOException)
        {
            // The status code still says enough; a malformed problem body is not worth a second error.
            return null;
        }
    }

    private static string RetryAfter(HttpResponseMessage response)
    {
        var after = response.Headers.RetryAfter;
        var wait = after?.Delta ?? (after?.Date is { } date ? date - DateTimeOffset.UtcNow : null);
        return wait is { } delay
            ? string.Create(CultureInfo.InvariantCulture, $"try again in {Math.Max(1, (int)Math.Ceiling(delay.TotalMinutes))} minute(s)")
            : "wait a while and try again";
    }

    private static string Or(string text, string fallback) => text.Length > 0 ? text : fallback;
}
