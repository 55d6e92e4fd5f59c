using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace SecureIntake.Testing;

/// <summary>
/// A private, real Dovecot IMAP server for one test: its own configuration, sockets, log and Maildir in a temp
/// directory, listening on loopback only, one passwd-file account. Nothing is read from /etc/dovecot and the
/// system service is left alone. Mail is put in place the way an MDA does it, straight into the Maildir, so a
/// test controls exactly which bytes the gateway will fetch.
/// </summary>
/// <remarks>
/// Dovecot serves no mail as root ("Mail access not allowed for root", whatever first_valid_uid says) and its
/// login processes refuse root as well. So under root the whole server runs as <c>nobody</c> through runuser,
/// laid out the way Dovecot's rootless install is: one account for every process and the mail, no chroots.
/// Anyone else runs it as themselves with the same configuration.
/// </remarks>
public sealed class DovecotServer : IAsyncDisposable
{
    private const int StartAttempts = 3;

    // A safety net for a start on two busy cores, not a measure: Dovecot greets within a second or two.
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(60);
    private static int _deliveries;

    private readonly string _dovecot;
    private readonly string? _runAs;
    private readonly string _account;
    private readonly string _group;
    private readonly TemporaryDirectory _root;
    private BackgroundProcess? _process;

    private DovecotServer(string dovecot, string? runAs, string account, string group, string user, int port, int tlsPort)
    {
        _dovecot = dovecot;
        _runAs = runAs;
        _account = account;
        _group = group;
        _root = new TemporaryDirectory("si-dovecot-");
        User = user;
        Password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        Port = port;
        TlsPort = tlsPort;
        CertificatePath = _root.File("certificate.pem");
        MaildirPath = _root.File("Maildir");
        Greeting = "SecureIntake test Dovecot " + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
    }

    public string Host { get; } = "127.0.0.1";

    /// <summary>Plain IMAP (STARTTLS is offered too, with the same certificate).</summary>
    public int Port { get; }

    /// <summary>IMAP over implicit TLS (imaps), with the self-signed certificate at <see cref="CertificatePath"/>.</summary>
    public int TlsPort { get; }

    /// <summary>The server's self-signed certificate (PEM), valid for 127.0.0.1 and localhost; trust it to test TLS.</summary>
    public string CertificatePath { get; }

    public string User { get; }

    public string Password { get; }

    /// <summary>The account's Maildir++: INBOX at the top, folder <c>X</c> in <c>.X</c>.</summary>
    public string MaildirPath { get; }

    /// <summary>
    /// This instance's own greeting: another Dovecot (a parallel test's) that took the port meanwhile greets
    /// alike otherwise, and the start would pass for ours.
    /// </summary>
    private string Greeting { get; }

    private string ConfigPath => _root.File("dovecot.conf");

    private string LogPath => _root.File("dovecot.log");

    public static async Task<DovecotServer> StartAsync(string user = "tips")
    {
        var dovecot = RequireDovecot();
        var openssl = ExternalTool.Require("openssl", "openssl");
        var runAs = Environment.UserName == "root" ? "nobody" : null;
        var account = runAs ?? Environment.UserName;
        var group = (await ExternalTool.RunAsync("id", ["-gn", account])).EnsureSuccess($"id -gn {account}").OutputText.Trim();
        for (var attempt = 1; ; attempt++)
        {
            var port = LoopbackPort.Free();
            var tlsPort = LoopbackPort.Free();
            if (tlsPort == port)
            {
                continue;
            }

            var server = new DovecotServer(dovecot, runAs, account, group, user, port, tlsPort);
            try
            {
                // The ports were free a moment ago; if something took one meanwhile, start over on new ones.
                if (await server.LaunchAsync(openssl, retryIfPortTaken: attempt < StartAttempts))
                {
                    return server;
                }
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }

            await server.DisposeAsync();
        }
    }

    /// <summary>
    /// Puts a message in a folder as an MDA does: written whole to tmp/, then renamed into new/ under a unique
    /// Maildir name, so Dovecot never sees half a message. The folder is made if it does not exist yet.
    /// </summary>
    public async Task DeliverAsync(byte[] rfc822, string folder = "INBOX")
    {
        ArgumentNullException.ThrowIfNull(rfc822);
        var directory = await EnsureFolderAsync(folder);
        var name = UniqueName();
        var staged = Path.Combine(directory, "tmp", name);
        await File.WriteAllBytesAsync(staged, rfc822);
        await GiveToMailAccountAsync(staged, recursive: false);
        File.Move(staged, Path.Combine(directory, "new", name));
    }

    /// <summary>
    /// Messages in a folder: every file in new/ and cur/. Dovecot expunges by deleting the file, so a message
    /// flagged \Deleted but not yet expunged still counts. A folder that was never made has none.
    /// </summary>
    public Task<int> CountAsync(string folder = "INBOX")
    {
        var directory = FolderPath(folder);
        return Task.FromResult(Files(Path.Combine(directory, "new")) + Files(Path.Combine(directory, "cur")));

        static int Files(string directory) => Directory.Exists(directory) ? Directory.EnumerateFiles(directory).Count() : 0;
    }

    /// <summary>Makes a Maildir++ folder (IMAP name as given; "." is the hierarchy separator, as in <c>Archive.2026</c>).</summary>
    public Task CreateFolderAsync(string name) => EnsureFolderAsync(name);

    /// <summary>Dovecot's log so far, for assertion messages when the gateway and the server disagree.</summary>
    public async Task<string> ReadLogAsync() => File.Exists(LogPath) ? await File.ReadAllTextAsync(LogPath) : "";

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            if (!_process.HasExited)
            {
                try
                {
                    // `dovecot stop` signals the master and waits until it and its children are gone.
                    await RunDovecotAsync(["-c", ConfigPath, "stop"]);
                }
                catch (TimeoutException)
                {
                    // Killed below instead.
                }
            }

            await _process.StopAsync(TimeSpan.FromSeconds(10));
            _process.Dispose();
        }

        _root.Dispose();
    }

    private static string RequireDovecot()
    {
        // Debian installs it in /usr/sbin, which is not on an ordinary user's PATH.
        var dovecot = ExternalTool.Find("dovecot") ?? (File.Exists("/usr/sbin/dovecot") ? "/usr/sbin/dovecot" : null);
        return dovecot is not null && File.Exists("/usr/lib/dovecot/imap")
            ? dovecot
            : throw new InvalidOperationException(
                "Dovecot's IMAP server is not installed; mail tests use a real one. " +
                "Install it with `apt-get install dovecot-imapd` (or run `bash .ci/run`).");
    }

    /// <summary>Returns false when a port was taken before Dovecot could bind it and the caller may try again.</summary>
    private async Task<bool> LaunchAsync(string openssl, bool retryIfPortTaken)
    {
        Directory.CreateDirectory(Path.Combine(MaildirPath, "cur"));
        Directory.CreateDirectory(Path.Combine(MaildirPath, "new"));
        Directory.CreateDirectory(Path.Combine(MaildirPath, "tmp"));
        Directory.CreateDirectory(_root.File("state"));
        var key = _root.File("key.pem");
        // EC rather than RSA: made in milliseconds, and every TLS client the gateway might use accepts it.
        (await ExternalTool.RunAsync(openssl,
            ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
             "-keyout", key, "-out", CertificatePath]))
            .EnsureSuccess("openssl req -x509");
        var users = _root.File("users");
        // No uid/gid columns: passwd-file rejects uid 0 outright, and mail_uid/mail_gid below cover every case.
        await File.WriteAllTextAsync(users, $"{User}:{{PLAIN}}{Password}::::::\n");
        await File.WriteAllTextAsync(ConfigPath, Configuration(key, users));
        await GiveToMailAccountAsync(_root.Path, recursive: true);

        var command = _runAs is null ? _dovecot : ExternalTool.Require("runuser", "util-linux");
        string[] arguments = ["-F", "-c", ConfigPath];
        _process = BackgroundProcess.Start(command, _runAs is null ? arguments : ["-u", _runAs, "--", _dovecot, .. arguments]);

        var deadline = DateTime.UtcNow + StartDeadline;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                var why = await StartFailureAsync();
                return retryIfPortTaken && why.Contains("Address already in use", StringComparison.Ordinal)
                    ? false
                    : throw new InvalidOperationException($"dovecot did not start:\n{why}");
            }

            if (await GreetsAsync(Port, Greeting))
            {
                return true;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"dovecot did not greet on port {Port} within {StartDeadline.TotalSeconds} seconds:\n{await StartFailureAsync()}");
    }

    private string Configuration(string key, string users) => $$"""
        # Written by SecureIntake.Testing.DovecotServer for one test; nothing comes from /etc/dovecot.
        base_dir = {{_root.File("run")}}
        state_dir = {{_root.File("state")}}
        log_path = {{LogPath}}
        listen = 127.0.0.1
        protocols = imap
        login_greeting = {{Greeting}}

        # imaps gets TLS on its own listener; the plain listener offers STARTTLS with the same certificate.
        ssl = yes
        ssl_cert = <{{CertificatePath}}
        ssl_key = <{{key}}

        # Loopback only: the gateway may log in without TLS, and a wrong password answers at once.
        disable_plaintext_auth = no
        auth_mechanisms = plain login
        auth_failure_delay = 0

        # Rootless layout: one account for every process and for the mail (see DovecotServer's remarks).
        default_internal_user = {{_account}}
        default_internal_group = {{_group}}
        default_login_user = {{_account}}
        mail_uid = {{_account}}
        mail_gid = {{_group}}
        mail_location = maildir:{{MaildirPath}}
        mail_fsync = always

        passdb {
          driver = passwd-file
          args = scheme=PLAIN username_format=%u {{users}}
        }
        userdb {
          driver = passwd-file
          args = username_format=%u {{users}}
        }

        # chroot needs root; the defaults chroot these two.
        service imap-login {
          chroot =
          inet_listener imap {
            port = {{Port}}
            ssl = no
          }
          inet_listener imaps {
            port = {{TlsPort}}
            ssl = yes
          }
        }
        service anvil {
          chroot =
        }

        """;

    /// <summary>
    /// True once the real greeting arrives. Until its auth process answers, imap-login sends only
    /// "* OK Waiting for authentication process to respond.."; the real greeting lists the capabilities.
    /// </summary>
    private static async Task<bool> GreetsAsync(int port, string greeting)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
            using var reader = new StreamReader(client.GetStream(), Encoding.Latin1);
            while (await reader.ReadLineAsync(timeout.Token) is { } line)
            {
                if (line.StartsWith("* OK [CAPABILITY", StringComparison.Ordinal) && line.EndsWith(greeting, StringComparison.Ordinal))
                {
                    return true;
                }
            }

            return false;
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            return false;
        }
    }

    private async Task<string> StartFailureAsync() =>
        $"--- {LogPath}\n{await ReadLogAsync()}\n--- dovecot's output\n{_process?.Output}";

    private async Task<string> EnsureFolderAsync(string folder)
    {
        var directory = FolderPath(folder);
        if (Directory.Exists(Path.Combine(directory, "tmp")))
        {
            return directory;
        }

        foreach (var part in new[] { "cur", "new", "tmp" })
        {
            Directory.CreateDirectory(Path.Combine(directory, part));
        }

        // Courier's marker for a Maildir++ subfolder; Dovecot writes it too when it makes one itself.
        await File.WriteAllBytesAsync(Path.Combine(directory, "maildirfolder"), []);
        await GiveToMailAccountAsync(directory, recursive: true);
        return directory;
    }

    private string FolderPath(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (string.Equals(folder, "INBOX", StringComparison.OrdinalIgnoreCase))
        {
            return MaildirPath;
        }

        // Plain ASCII names only: anything else needs IMAP's modified UTF-7 on disk, which tests have no use for.
        var plain = folder.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')
            && !folder.StartsWith('.') && !folder.EndsWith('.') && !folder.Contains("..", StringComparison.Ordinal);
        return plain
            ? Path.Combine(MaildirPath, "." + folder)
            : throw new ArgumentException($"'{folder}' is not a folder name these tests use (ASCII letters, digits, - _ and . between parts)", nameof(folder));
    }

    /// <summary>Under root, what the test writes must belong to the account Dovecot runs as, or it cannot move or expunge it.</summary>
    private async Task GiveToMailAccountAsync(string path, bool recursive)
    {
        if (_runAs is null)
        {
            return;
        }

        var owner = $"{_account}:{_group}";
        (await ExternalTool.RunAsync("chown", recursive ? ["-R", owner, path] : [owner, path])).EnsureSuccess($"chown {path}");
    }

    private Task<ToolResult> RunDovecotAsync(IEnumerable<string> arguments) => _runAs is null
        ? ExternalTool.RunAsync(_dovecot, arguments, timeout: StartDeadline)
        : ExternalTool.RunAsync("runuser", ["-u", _runAs, "--", _dovecot, .. arguments], timeout: StartDeadline);

    /// <summary>The usual Maildir name: time, microseconds, process and a counter, then the host.</summary>
    private static string UniqueName()
    {
        var now = DateTimeOffset.UtcNow;
        var microseconds = now.UtcTicks % TimeSpan.TicksPerSecond / 10;
        var host = Environment.MachineName.Replace("/", "\\057", StringComparison.Ordinal).Replace(":", "\\072", StringComparison.Ordinal);
        return string.Create(CultureInfo.InvariantCulture,
            $"{now.ToUnixTimeSeconds()}.M{microseconds}P{Environment.ProcessId}Q{Interlocked.Increment(ref _deliveries)}.{host}");
    }
}
