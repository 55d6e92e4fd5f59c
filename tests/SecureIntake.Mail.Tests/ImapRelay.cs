using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace SecureIntake.Mail.Tests;

/// <summary>
/// A loopback TCP relay in front of a real IMAP server, so a test can do what a network or a server does to a client:
/// drop every open connection at once, see whether a client still holds one, or (for a server without IDLE) take the
/// IDLE capability out of what the server announces.
/// </summary>
internal sealed partial class ImapRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<int, (TcpClient Client, TcpClient Upstream)> _open = new();
    private readonly List<Task> _relays = [];
    private readonly int _upstreamPort;
    private readonly bool _hideIdle;
    private readonly Task _accepting;
    private int _next;

    public ImapRelay(int upstreamPort, bool hideIdle = false)
    {
        _upstreamPort = upstreamPort;
        _hideIdle = hideIdle;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    public int Port { get; }

    /// <summary>Connections relayed right now.</summary>
    public int OpenConnections => _open.Count;

    /// <summary>Closes every open connection on both sides, as a server restart or a lost route does; new ones are relayed again.</summary>
    public void DropAll()
    {
        foreach (var (id, pair) in _open)
        {
            // Null once the relay itself closed it.
            pair.Client.Client?.Close(0);
            pair.Upstream.Client?.Close(0);
            _open.TryRemove(id, out _);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        DropAll();
        await Task.WhenAll([_accepting, .. _relays]).ContinueWith(_ => { }, TaskScheduler.Default);
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _relays.Add(RelayAsync(client));
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        var id = Interlocked.Increment(ref _next);
        using (client)
        using (var upstream = new TcpClient())
        {
            try
            {
                await upstream.ConnectAsync(IPAddress.Loopback, _upstreamPort, _stop.Token);
                _open[id] = (client, upstream);
                var down = client.GetStream();
                var up = upstream.GetStream();
                await Task.WhenAny(down.CopyToAsync(up, _stop.Token), CopyFromServerAsync(up, down));
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
            {
                // The test is over, one side hung up, or the test dropped the connection.
            }
            finally
            {
                _open.TryRemove(id, out _);
            }
        }
    }

    private async Task CopyFromServerAsync(Stream server, Stream client)
    {
        if (!_hideIdle)
        {
            await server.CopyToAsync(client, _stop.Token);
            return;
        }

        // Capability lines are short and Dovecot writes each whole, so a read holds whole lines; Latin-1 keeps every other byte as it was.
        var buffer = new byte[65536];
        int read;
        while ((read = await server.ReadAsync(buffer, _stop.Token)) > 0)
        {
            var text = IdleCapability().Replace(Encoding.Latin1.GetString(buffer, 0, read), "");
            await client.WriteAsync(Encoding.Latin1.GetBytes(text), _stop.Token);
        }
    }

    [GeneratedRegex(@" IDLE(?=[ \]\r])")]
    private static partial Regex IdleCapability();
}
