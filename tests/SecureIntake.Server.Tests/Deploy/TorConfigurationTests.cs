using System.Text.RegularExpressions;
using Org.BouncyCastle.Crypto.Parameters;
using SecureIntake.Testing;

namespace SecureIntake.Server.Tests.Deploy;

/// <summary>
/// deploy/tor/torrc read by the real Tor, with its two absolute locations (Tor's state, SecureIntake's sockets) moved
/// under the test's folder. Tor runs with its network off: it makes and loads its onion services, reaches no relay.
/// </summary>
public sealed partial class TorConfigurationTests : IDisposable
{
    private readonly TemporaryDirectory _root = new("si-tor-");

    [Fact]
    public async Task Tor_accepts_the_configuration_as_shipped()
    {
        var result = await ExternalTool.RunAsync(Tor(), ["--verify-config", .. Arguments()]);

        Assert.True(result.ExitCode == 0, result.OutputText + result.Error);
        Assert.Contains("Configuration was valid", result.OutputText, StringComparison.Ordinal);
    }

    [Fact]
    public void The_onion_services_point_at_the_sockets_the_web_unit_listens_on()
    {
        var torrc = File.ReadAllText(DeployFolder.File("tor", "torrc"));
        var web = File.ReadAllText(DeployFolder.File("systemd", "secureintake-web.service"));

        Assert.Contains("HiddenServicePort 80 unix:/run/secureintake/witness.sock", torrc, StringComparison.Ordinal);
        Assert.Contains("HiddenServicePort 80 unix:/run/secureintake/desk.sock", torrc, StringComparison.Ordinal);
        Assert.Contains("SECUREINTAKE_Urls=http://unix:/run/secureintake/witness.sock", web, StringComparison.Ordinal);
        Assert.Contains("SECUREINTAKE_Desk__Urls=http://unix:/run/secureintake/desk.sock", web, StringComparison.Ordinal);
        Assert.Contains("RuntimeDirectory=secureintake", web, StringComparison.Ordinal);
        // No loopback port for either: any local process could reach a port, and the desk through it without a key.
        Assert.DoesNotMatch(@"HiddenServicePort\s+\d+\s+(127\.|\[::1\]|localhost)", torrc);
    }

    [Fact]
    public async Task Tor_makes_two_onion_services_and_admits_the_desk_key_an_editor_made_with_the_script()
    {
        // The editor runs the script on their own machine; only the public line reaches the server.
        var editorFolder = Directory.CreateDirectory(_root.File("editor")).FullName;
        var deskAddress = new string('a', 52) + "bcdq";
        var script = await ExternalTool.RunAsync("bash", ["-c", "cd \"$1\" && exec bash \"$2\" anna \"$3.onion\"", "-", editorFolder,
            DeployFolder.File("tor", "desk-client-key.sh"), deskAddress]);
        Assert.True(script.ExitCode == 0, script.Error);
        var publicLine = PublicKeyLine().Match(script.OutputText);
        Assert.True(publicLine.Success, script.OutputText);
        var privateLine = File.ReadAllText(Path.Combine(editorFolder, "anna.auth_private")).Trim();
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(editorFolder, "anna.auth_private")));
        Assert.StartsWith(deskAddress + ":descriptor:x25519:", privateLine, StringComparison.Ordinal);
        // The two halves belong together: the public key the admin installs is the one the editor's private key makes.
        var secret = new X25519PrivateKeyParameters(Base32(privateLine[(privateLine.LastIndexOf(':') + 1)..]));
        Assert.Equal(secret.GeneratePublicKey().GetEncoded(), Base32(publicLine.Groups["key"].Value));

        var clients = Directory.CreateDirectory(Path.Combine(_root.Path, "lib", "secureintake-desk", "authorized_clients"));
        File.SetUnixFileMode(Path.GetDirectoryName(clients.FullName)!, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await File.WriteAllTextAsync(Path.Combine(clients.FullName, "anna.auth"), $"descriptor:x25519:{publicLine.Groups["key"].Value}\n");

        using var tor = BackgroundProcess.Start(Tor(), [.. Arguments(), "--Log", "info stdout"]);
        try
        {
            var witness = Path.Combine(_root.Path, "lib", "secureintake-witness", "hostname");
            var desk = Path.Combine(_root.Path, "lib", "secureintake-desk", "hostname");
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!(File.Exists(witness) && File.Exists(desk) && tor.Output.Contains("Loaded a client authorization key file anna.auth", StringComparison.Ordinal)))
            {
                Assert.False(tor.HasExited, tor.Output);
                Assert.True(DateTime.UtcNow < deadline, "Tor made no onion services within 60 s:\n" + tor.Output);
                await Task.Delay(100);
            }

            var addresses = new[] { File.ReadAllText(witness).Trim(), File.ReadAllText(desk).Trim() };
            Assert.All(addresses, address => Assert.Matches("^[a-z2-7]{56}\\.onion$", address));
            Assert.NotEqual(addresses[0], addresses[1]);
            Assert.DoesNotContain("[warn] Client authorization", tor.Output, StringComparison.Ordinal);
        }
        finally
        {
            await tor.StopAsync(TimeSpan.Zero);
        }
    }

    public void Dispose() => _root.Dispose();

    // Debian installs tor in /usr/sbin, which an ordinary user's PATH may lack.
    private static string Tor() => ExternalTool.Find("tor") ?? (File.Exists("/usr/sbin/tor") ? "/usr/sbin/tor" : ExternalTool.Require("tor", "tor"));

    // DisableNetwork: Tor loads everything it would serve, and sends nothing beyond this machine.
    private string[] Arguments()
    {
        var data = Directory.CreateDirectory(_root.File("data"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute).FullName;
        var text = File.ReadAllText(DeployFolder.File("tor", "torrc"))
            .Replace("/var/lib/tor/", Path.Combine(_root.Path, "lib") + "/", StringComparison.Ordinal)
            .Replace("/run/secureintake/", Path.Combine(_root.Path, "run") + "/", StringComparison.Ordinal);
        var torrc = _root.File("torrc");
        File.WriteAllText(torrc, text);
        return ["-f", torrc, "--DataDirectory", data, "--DisableNetwork", "1", "--defaults-torrc", "/dev/null"];
    }

    private static byte[] Base32(string text)
    {
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var bytes = new List<byte>();
        int buffer = 0, bits = 0;
        foreach (var c in text)
        {
            buffer = (buffer << 5) | Alphabet.IndexOf(c, StringComparison.Ordinal) switch { < 0 => throw new FormatException($"'{c}' is not base32"), var v => v };
            bits += 5;
            if (bits >= 8)
            {
                bits -= 8;
                bytes.Add((byte)(buffer >> bits));
                buffer &= (1 << bits) - 1;
            }
        }

        return [.. bytes];
    }

    [GeneratedRegex("descriptor:x25519:(?<key>[A-Z2-7]{52})\\b")]
    private static partial Regex PublicKeyLine();
}
