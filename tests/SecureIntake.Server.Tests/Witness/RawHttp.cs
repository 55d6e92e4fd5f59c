using System.Net.Sockets;
using System.Text;

namespace SecureIntake.Server.Tests.Witness;

/// <summary>
/// HTTP/1.1 written by hand over a socket, for requests no well-behaved client sends: broken bodies,
/// conflicting framing, connections that stall on purpose.
/// </summary>
internal sealed class RawHttp : IAsyncDisposable
{
    private readonly TcpClient _client = new();
    private NetworkStream _stream = null!;

    public static async Task<RawHttp> ConnectAsync(Uri address)
    {
        var raw = new RawHttp();
        await raw._client.ConnectAsync(address.Host, address.Port);
        raw._stream = raw._client.GetStream();
        return raw;
    }

    /// <summary>Sends, then reads one whole response (until the server closes or the body is complete).</summary>
    public static async Task<RawResponse> SendAsync(Uri address, byte[] request, TimeSpan? timeout = null)
    {
        await using var raw = await ConnectAsync(address);
        await raw.WriteAsync(request);
        return await raw.ReadResponseAsync(timeout ?? TimeSpan.FromSeconds(60));
    }

    public static byte[] Request(string method, string path, Uri address, string? cookie, string? contentType, IEnumerable<string> extraHeaders, byte[]? body,
        bool contentLength = true)
    {
        var head = new StringBuilder($"{method} {path} HTTP/1.1\r\nHost: {address.Authority}\r\nSec-Fetch-Site: same-origin\r\nOrigin: null\r\n");
        if (cookie is not null)
        {
            head.Append("Cookie: ").Append(cookie).Append("\r\n");
        }

        if (contentType is not null)
        {
            head.Append("Content-Type: ").Append(contentType).Append("\r\n");
        }

        if (body is not null && contentLength)
        {
            head.Append("Content-Length: ").Append(body.Length).Append("\r\n");
        }

        foreach (var header in extraHeaders)
        {
            head.Append(header).Append("\r\n");
        }

        head.Append("\r\n");
        return [.. Encoding.ASCII.GetBytes(head.ToString()), .. body ?? []];
    }

    public async Task WriteAsync(byte[] bytes) => await _stream.WriteAsync(bytes);

    /// <summary>Reads one response; its body is read to the end of Content-Length or of the connection.</summary>
    public async Task<RawResponse> ReadResponseAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        var received = new MemoryStream();
        var buffer = new byte[64 * 1024];
        int headEnd;
        while ((headEnd = IndexOf(received, "\r\n\r\n"u8)) < 0)
        {
            var read = await _stream.ReadAsync(buffer, deadline.Token);
            if (read == 0)
            {
                throw new IOException("the server closed the connection without an answer");
            }

            received.Write(buffer, 0, read);
        }

        var head = Encoding.ASCII.GetString(received.GetBuffer(), 0, headEnd);
        var lines = head.Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = lines.Skip(1).Select(l => l.Split(':', 2)).ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.OrdinalIgnoreCase);
        var bodyStart = headEnd + 4;
        long? length = headers.TryGetValue("Content-Length", out var value) ? long.Parse(value, System.Globalization.CultureInfo.InvariantCulture) : null;
        while (length is null || received.Length - bodyStart < length)
        {
            var read = await _stream.ReadAsync(buffer, deadline.Token);
            if (read == 0)
            {
                break;
            }

            received.Write(buffer, 0, read);
        }

        var body = Encoding.UTF8.GetString(received.GetBuffer(), bodyStart, (int)(received.Length - bodyStart));
        return new RawResponse(status, headers, body);
    }

    /// <summary>True when the server closed the connection within <paramref name="timeout"/>.</summary>
    public async Task<bool> ClosedByServerAsync(TimeSpan timeout) => await ReadUntilClosedAsync(timeout) is not null;

    /// <summary>What the server still sent before it closed the connection, or null when it kept it open past <paramref name="timeout"/>.</summary>
    public async Task<string?> ReadUntilClosedAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        var buffer = new byte[64 * 1024];
        var rest = new MemoryStream();
        try
        {
            int read;
            while ((read = await _stream.ReadAsync(buffer, deadline.Token)) > 0)
            {
                rest.Write(buffer, 0, read);
            }
        }
        catch (IOException)
        {
            // A reset closes it too.
        }
        catch (OperationCanceledException)
        {
            return null;
        }

        return Encoding.UTF8.GetString(rest.ToArray());
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _client.Dispose();
    }

    private static int IndexOf(MemoryStream stream, ReadOnlySpan<byte> value) => stream.GetBuffer().AsSpan(0, (int)stream.Length).IndexOf(value);
}

internal sealed record RawResponse(int Status, IReadOnlyDictionary<string, string> Headers, string Body);
