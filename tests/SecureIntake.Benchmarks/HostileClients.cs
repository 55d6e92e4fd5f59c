using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace SecureIntake.Benchmarks;

/// <summary>
/// Hostile clients on raw sockets against the witness form, each holding one connection at a time and opening the
/// next when the server closes it, until the attack stops. Every loop is bounded in count as well as by the stop.
/// The idle kinds send what the attacks in issue 10 sent: no token, no Origin, no cookie.
/// </summary>
internal sealed class HostileClients(IPEndPoint server, CancellationToken stop)
{
    /// <summary>A pause before reopening, so that a server which closes at once is not met by a connect storm from this same machine.</summary>
    public static readonly TimeSpan ReopenPause = TimeSpan.FromSeconds(1);

    public static readonly TimeSpan DribbleInterval = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Between two posts of one re-poster: the loop measures what one reused token buys, not how fast this machine
    /// can exchange refusals with itself on two cores.
    /// </summary>
    public static readonly TimeSpan RepostPause = TimeSpan.FromSeconds(1);

    private const long DeclaredLength = 1L << 30;
    private const int MaxConnectionsPerClient = 1_000;
    private const int MaxPostsPerClient = 10_000;
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    private readonly string _host = $"127.0.0.1:{server.Port}";

    /// <summary>Runs one client of <paramref name="tally"/>'s kind until the stop; <paramref name="started"/> runs once its first connect is over.</summary>
    public async Task RunAsync(HostileTally tally, Action started)
    {
        var repost = new RepostState();
        var firstAttempt = true;
        for (var connection = 0; connection < MaxConnectionsPerClient && !stop.IsCancellationRequested; connection++)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            var connected = await ConnectAsync(socket);
            if (firstAttempt)
            {
                firstAttempt = false;
                started();
            }

            if (!connected)
            {
                tally.ConnectFailed();
            }
            else
            {
                tally.Connected();
                var opened = Stopwatch.GetTimestamp();
                var closedByServer = tally.Kind == HostileKind.Reposting
                    ? await RepostAsync(socket, tally, repost)
                    : await HoldAsync(socket, tally);
                tally.Ended(Stopwatch.GetElapsedTime(opened), closedByServer);
                if (!closedByServer || repost.Posts >= MaxPostsPerClient)
                {
                    return;
                }
            }

            try
            {
                await Task.Delay(ReopenPause, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task<bool> ConnectAsync(Socket socket)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        timeout.CancelAfter(ConnectTimeout);
        try
        {
            await socket.ConnectAsync(server, timeout.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>The idle and dribbling kinds: send the start of a post, then watch until the server closes or the attack stops.</summary>
    private async Task<bool> HoldAsync(Socket socket, HostileTally tally)
    {
        var start = PostHeaders(DeclaredLength, cookie: null, sameOrigin: false)
            + (tally.Kind == HostileKind.IdleAfterBoundary ? "--XYZ\r\n" : "");
        using var watching = CancellationTokenSource.CreateLinkedTokenSource(stop);
        try
        {
            await socket.SendAsync(Encoding.ASCII.GetBytes(start), SocketFlags.None, stop);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            tally.Answered("none");
            return !stop.IsCancellationRequested;
        }

        var dribbling = tally.Kind == HostileKind.Dribbling ? DribbleAsync(socket, watching.Token) : Task.CompletedTask;
        var (closedByServer, answer) = await WatchAsync(socket);
        await watching.CancelAsync();
        await dribbling;
        tally.Answered(answer);
        return closedByServer;
    }

    /// <summary>One byte of a plausible body every interval, until told to stop or the server stops taking them.</summary>
    private static async Task DribbleAsync(Socket socket, CancellationToken cancellationToken)
    {
        var body = Encoding.ASCII.GetBytes("--XYZ\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\n");
        for (var sent = 0L; sent < DeclaredLength; sent++)
        {
            try
            {
                await Task.Delay(DribbleInterval, cancellationToken);
                await socket.SendAsync(new[] { sent < body.Length ? body[sent] : (byte)'a' }, SocketFlags.None, cancellationToken);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Reads what the server sends until it closes (true) or the attack stops (false); the answer is the first status seen.</summary>
    private async Task<(bool ClosedByServer, string Answer)> WatchAsync(Socket socket)
    {
        var buffer = new byte[4096];
        var first = new StringBuilder();
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, stop)) > 0)
            {
                if (first.Length < 16)
                {
                    first.Append(Encoding.Latin1.GetString(buffer, 0, Math.Min(read, 16)));
                }
            }

            return (true, StatusOf(first.ToString()));
        }
        catch (SocketException)
        {
            return (true, StatusOf(first.ToString()));
        }
        catch (OperationCanceledException)
        {
            return (false, StatusOf(first.ToString()));
        }
    }

    private static string StatusOf(string start) =>
        start.Length == 0 ? "none"
        : start.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) && start.Length >= 12 ? start[9..12]
        : "not HTTP";

    /// <summary>
    /// The re-poster: fetch the form once (again only while it has no token), then post the same cookie and token
    /// until the server closes the connection (true) or the attack stops (false).
    /// </summary>
    private async Task<bool> RepostAsync(Socket socket, HostileTally tally, RepostState state)
    {
        var reader = new RawHttpReader(socket);
        try
        {
            while (!stop.IsCancellationRequested && state.Posts < MaxPostsPerClient)
            {
                RawResponse? response;
                if (state.Token is null)
                {
                    await SendAsync(socket, $"GET /en/submit HTTP/1.1\r\nHost: {_host}\r\n\r\n");
                    if ((response = await reader.ReadResponseAsync(stop)) is null)
                    {
                        return true;
                    }

                    var token = HonestWitnesses.TokenPattern().Match(response.Body);
                    if (response.Status == 200 && token.Success)
                    {
                        state.Token = token.Groups[1].Value;
                        state.Cookie = string.Join("; ", response.Cookies);
                    }
                    else
                    {
                        tally.Answered($"form {response.Status}");
                    }
                }
                else
                {
                    var body = $"--XYZ\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\n{state.Token}\r\n" +
                        "--XYZ\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\nAgain and again.\r\n--XYZ--\r\n";
                    await SendAsync(socket, PostHeaders(Encoding.ASCII.GetByteCount(body), state.Cookie, sameOrigin: true) + body);
                    if ((response = await reader.ReadResponseAsync(stop)) is null)
                    {
                        return true;
                    }

                    state.Posts++;
                    tally.Answered(response.Status.ToString(CultureInfo.InvariantCulture));
                    tally.Posted(response.Status == 200 && HonestWitnesses.CodenamePattern().IsMatch(response.Body));
                }

                if (response.Closes)
                {
                    await reader.DrainToCloseAsync(stop);
                    return true;
                }

                await Task.Delay(state.Token is null ? ReopenPause : RepostPause, stop);
            }

            return false;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            return true;
        }
        catch (InvalidDataException)
        {
            tally.Answered("not HTTP");
            return true;
        }
    }

    private async Task SendAsync(Socket socket, string request) =>
        await socket.SendAsync(Encoding.UTF8.GetBytes(request), SocketFlags.None, stop);

    private string PostHeaders(long contentLength, string? cookie, bool sameOrigin) =>
        $"POST /en/submit HTTP/1.1\r\nHost: {_host}\r\n"
        + (cookie is { Length: > 0 } ? $"Cookie: {cookie}\r\n" : "")
        + (sameOrigin ? "Origin: null\r\nSec-Fetch-Site: same-origin\r\n" : "")
        + $"Content-Type: multipart/form-data; boundary=XYZ\r\nContent-Length: {contentLength}\r\n\r\n";

    /// <summary>What a re-poster keeps across its connections: one page's cookie and token, and its posts so far.</summary>
    private sealed class RepostState
    {
        public string? Token { get; set; }

        public string? Cookie { get; set; }

        public int Posts { get; set; }
    }
}
