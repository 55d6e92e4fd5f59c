using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace SecureIntake.Benchmarks;

/// <summary>
/// Reads HTTP/1.1 responses off a raw socket, for the hostile clients that write every request byte themselves:
/// the status, the cookies set and the body (by Content-Length, chunked, or up to the close).
/// </summary>
internal sealed class RawHttpReader(Socket socket)
{
    private const int MaxBodyBytes = 1 << 20;

    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    /// <summary>The next response, or null when the server closed the connection before all of it arrived.</summary>
    public async Task<RawResponse?> ReadResponseAsync(CancellationToken cancellationToken)
    {
        if (await ReadLineAsync(cancellationToken) is not { } statusLine)
        {
            return null;
        }

        var parts = statusLine.Split(' ', 3);
        if (parts.Length < 2 || !parts[0].StartsWith("HTTP/", StringComparison.Ordinal)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var status))
        {
            throw new InvalidDataException($"not an HTTP status line: {statusLine[..Math.Min(statusLine.Length, 40)]}");
        }

        var cookies = new List<string>();
        long? length = null;
        var chunked = false;
        var closes = false;
        while (await ReadLineAsync(cancellationToken) is { Length: > 0 } header)
        {
            var colon = header.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                continue;
            }

            var (name, value) = (header[..colon].Trim(), header[(colon + 1)..].Trim());
            if (name.Equals("Set-Cookie", StringComparison.OrdinalIgnoreCase))
            {
                cookies.Add(value.Split(';', 2)[0]);
            }
            else if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                length = long.Parse(value, CultureInfo.InvariantCulture);
            }
            else if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                chunked = value.Contains("chunked", StringComparison.OrdinalIgnoreCase);
            }
            else if (name.Equals("Connection", StringComparison.OrdinalIgnoreCase))
            {
                closes = value.Contains("close", StringComparison.OrdinalIgnoreCase);
            }
        }

        var body = new MemoryStream();
        var complete = chunked ? await ReadChunksAsync(body, cancellationToken)
            : length is { } count ? await ReadBytesAsync(body, count, cancellationToken)
            : await ReadToCloseAsync(body, cancellationToken);
        return complete ? new RawResponse(status, cookies, Encoding.UTF8.GetString(body.GetBuffer(), 0, (int)body.Length), closes || length is null && !chunked) : null;
    }

    /// <summary>Reads and drops whatever comes until the server closes the connection.</summary>
    public async Task DrainToCloseAsync(CancellationToken cancellationToken)
    {
        _start = _end = 0;
        while (await FillAsync(cancellationToken))
        {
            _start = _end = 0;
        }
    }

    private async Task<bool> ReadChunksAsync(MemoryStream body, CancellationToken cancellationToken)
    {
        while (await ReadLineAsync(cancellationToken) is { } sizeLine)
        {
            var size = long.Parse(sizeLine.Split(';', 2)[0].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (size == 0)
            {
                // Trailers, if any, end with an empty line like the headers.
                while (await ReadLineAsync(cancellationToken) is { Length: > 0 })
                {
                }

                return true;
            }

            if (!await ReadBytesAsync(body, size, cancellationToken) || await ReadLineAsync(cancellationToken) is null)
            {
                return false;
            }
        }

        return false;
    }

    private async Task<bool> ReadBytesAsync(MemoryStream body, long count, CancellationToken cancellationToken)
    {
        while (count > 0)
        {
            if (_start == _end && !await FillAsync(cancellationToken))
            {
                return false;
            }

            var take = (int)Math.Min(count, _end - _start);
            Keep(body, take);
            count -= take;
        }

        return true;
    }

    private async Task<bool> ReadToCloseAsync(MemoryStream body, CancellationToken cancellationToken)
    {
        do
        {
            Keep(body, _end - _start);
        }
        while (await FillAsync(cancellationToken));
        return true;
    }

    private void Keep(MemoryStream body, int count)
    {
        if (body.Length + count > MaxBodyBytes)
        {
            throw new InvalidDataException($"a response body over {MaxBodyBytes} bytes");
        }

        body.Write(_buffer, _start, count);
        _start += count;
    }

    private async Task<string?> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (newline >= 0)
            {
                var line = Encoding.Latin1.GetString(_buffer, _start, newline - _start).TrimEnd('\r');
                _start = newline + 1;
                return line;
            }

            if (!await FillAsync(cancellationToken))
            {
                return null;
            }
        }
    }

    /// <summary>Reads more from the socket after what is buffered; false when the server closed the connection.</summary>
    private async Task<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            Array.Copy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            throw new InvalidDataException("a response line longer than the read buffer");
        }

        var read = await socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, cancellationToken);
        _end += read;
        return read > 0;
    }
}

/// <summary>One response as a raw client sees it; <paramref name="Closes"/> when the server will close the connection after it.</summary>
internal sealed record RawResponse(int Status, IReadOnlyList<string> Cookies, string Body, bool Closes);
