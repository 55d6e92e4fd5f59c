using System.Net;
using System.Net.Sockets;
using System.Text;

namespace SecureIntake.Testing;

/// <summary>
/// A real SMTP server on loopback that accepts every message and keeps it, so a test can read what the gateway
/// sent (except to an address with "refused" in it, which it refuses at RCPT as a server refuses an unknown mailbox): Debian's aiosmtpd, started for one test with its data in a temp directory. No TLS, no authentication.
/// </summary>
/// <remarks>
/// aiosmtpd's own Mailbox handler would not do: it re-parses each message with Python's email package and
/// writes it back with LF line ends, normalized header whitespace and X-Peer / X-MailFrom / X-RcptTo headers
/// appended. The handler here stores the DATA payload exactly as received instead.
/// </remarks>
public sealed class SmtpSink : IAsyncDisposable
{
    // Debian's python3-aiosmtpd is in /usr/lib/python3/dist-packages, which only the system interpreter sees;
    // a pyenv or venv python3 earlier on PATH would not find it.
    private const string Python = "/usr/bin/python3";
    private const string Module = "/usr/lib/python3/dist-packages/aiosmtpd";
    private const int StartAttempts = 3;

    private const string Handler = """
        # aiosmtpd handler for SecureIntake.Testing.SmtpSink: keeps each message's DATA byte for byte.
        import os


        class RawMaildir:
            def __init__(self, directory):
                self.directory = directory
                self.received = 0

            @classmethod
            def from_cli(cls, parser, *args):
                if len(args) != 1:
                    parser.error("RawMaildir takes the directory to keep messages in")
                return cls(args[0])

            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                # As a server answers for a mailbox it does not have: permanently, for this address only.
                if "refused" in address:
                    return "550 5.1.1 no such mailbox here"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                # original_content is the payload after dot-unstuffing, CRLFs and all, with nothing added.
                self.received += 1
                name = "%08d" % self.received
                staged = os.path.join(self.directory, "tmp", name)
                with open(staged, "wb") as f:
                    f.write(envelope.original_content)
                # Renamed before the 250: once the client has its answer, the message is there to read whole.
                os.rename(staged, os.path.join(self.directory, "new", name))
                return "250 OK"
        """;

    private readonly TemporaryDirectory _root = new("si-smtp-");
    private BackgroundProcess? _process;

    private SmtpSink(int port)
    {
        Port = port;
    }

    public string Host { get; } = "127.0.0.1";

    public int Port { get; }

    private string Messages => _root.File("messages");

    public static async Task<SmtpSink> StartAsync()
    {
        if (!File.Exists(Python) || !Directory.Exists(Module))
        {
            throw new InvalidOperationException(
                "aiosmtpd is not installed for the system python3; mail tests use a real SMTP server. " +
                "Install it with `apt-get install python3-aiosmtpd` (or run `bash .ci/run`).");
        }

        for (var attempt = 1; ; attempt++)
        {
            var sink = new SmtpSink(LoopbackPort.Free());
            try
            {
                // The port was free a moment ago; if something took it meanwhile, start over on a new one.
                if (await sink.LaunchAsync(retryIfPortTaken: attempt < StartAttempts))
                {
                    return sink;
                }
            }
            catch
            {
                await sink.DisposeAsync();
                throw;
            }

            await sink.DisposeAsync();
        }
    }

    /// <summary>
    /// Every message received so far, oldest first: the DATA payload byte for byte as the client sent it
    /// (after SMTP's dot-unstuffing), CRLF line ends kept. The server adds nothing: no Received, X-Peer,
    /// X-MailFrom or X-RcptTo header. The envelope (MAIL FROM, RCPT TO) is not kept.
    /// </summary>
    public async Task<IReadOnlyList<byte[]>> MessagesAsync()
    {
        var files = Directory.GetFiles(Path.Combine(Messages, "new")).Order(StringComparer.Ordinal);
        var messages = new List<byte[]>();
        foreach (var file in files)
        {
            messages.Add(await File.ReadAllBytesAsync(file));
        }

        return messages;
    }

    /// <summary>All messages (as <see cref="MessagesAsync"/>) once at least <paramref name="count"/> have arrived.</summary>
    public async Task<IReadOnlyList<byte[]>> WaitForMessagesAsync(int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var messages = await MessagesAsync();
            if (messages.Count >= count)
            {
                return messages;
            }

            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException($"expected {count} message(s) on the SMTP sink within {timeout}, got {messages.Count}");
            }

            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            // Nothing to flush: every message was on disk before the client got its 250.
            await _process.StopAsync(TimeSpan.Zero);
            _process.Dispose();
        }

        _root.Dispose();
    }

    /// <summary>Returns false when the port was taken before aiosmtpd could bind it and the caller may try again.</summary>
    private async Task<bool> LaunchAsync(bool retryIfPortTaken)
    {
        foreach (var part in new[] { "tmp", "new" })
        {
            Directory.CreateDirectory(Path.Combine(Messages, part));
        }

        await File.WriteAllTextAsync(_root.File("secureintake_sink.py"), Handler);
        _process = BackgroundProcess.Start(Python,
            ["-m", "aiosmtpd", "-n", "-l", $"{Host}:{Port}", "-c", "secureintake_sink.RawMaildir", Messages],
            new Dictionary<string, string> { ["PYTHONPATH"] = _root.Path, ["PYTHONDONTWRITEBYTECODE"] = "1" });

        // A safety net for a start on two busy cores, not a measure: aiosmtpd greets within a second or two.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                var output = _process.Output;
                return retryIfPortTaken && output.Contains("address already in use", StringComparison.OrdinalIgnoreCase)
                    ? false
                    : throw new InvalidOperationException($"aiosmtpd did not start:\n{output}");
            }

            if (await GreetsAsync(Port))
            {
                return true;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"aiosmtpd did not greet on port {Port} within 60 seconds:\n{_process.Output}");
    }

    private static async Task<bool> GreetsAsync(int port)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
            var stream = client.GetStream();
            using var reader = new StreamReader(stream, Encoding.Latin1);
            var greeting = await reader.ReadLineAsync(timeout.Token);
            if (greeting?.StartsWith("220 ", StringComparison.Ordinal) != true)
            {
                return false;
            }

            await stream.WriteAsync("QUIT\r\n"u8.ToArray(), timeout.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            return false;
        }
    }
}
