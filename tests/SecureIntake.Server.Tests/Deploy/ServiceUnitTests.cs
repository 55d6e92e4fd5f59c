using SecureIntake.Testing;

namespace SecureIntake.Server.Tests.Deploy;

/// <summary>deploy/systemd's two units, checked by systemd's own parser and against the split of roles they promise.</summary>
public sealed class ServiceUnitTests : IDisposable
{
    private static readonly string[] Units = ["secureintake-web.service", "secureintake-worker.service"];

    private readonly TemporaryDirectory _root = new("si-units-");

    [Fact]
    public async Task Systemd_reads_both_units_without_a_complaint()
    {
        var systemdAnalyze = ExternalTool.Require("systemd-analyze", "systemd");
        // verify insists the ExecStart program exists: the installed release's path is moved to a stand-in here.
        var program = _root.File("secureintake");
        await File.WriteAllTextAsync(program, "#!/bin/sh\nexit 0\n");
        File.SetUnixFileMode(program, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var copies = new List<string>();
        foreach (var unit in Units)
        {
            var text = (await File.ReadAllTextAsync(DeployFolder.File("systemd", unit)))
                .Replace("/opt/secureintake/current/secureintake ", program + " ", StringComparison.Ordinal);
            Assert.Contains(program, text, StringComparison.Ordinal);
            copies.Add(_root.File(unit));
            await File.WriteAllTextAsync(copies[^1], text);
        }

        var result = await ExternalTool.RunAsync(systemdAnalyze, ["verify", .. copies]);

        // verify exits 0 even for unknown keys and values it cannot parse (it ignores them); any word from it is a fault.
        Assert.True(result.ExitCode == 0 && result.OutputText.Length == 0 && result.Error.Length == 0,
            $"systemd-analyze verify (exit {result.ExitCode}):\n{result.OutputText}{result.Error}");
    }

    [Fact]
    public void Only_the_worker_holds_mail_passwords_and_each_role_runs_as_its_own_user()
    {
        var web = Settings("secureintake-web.service");
        var worker = Settings("secureintake-worker.service");

        Assert.DoesNotContain(web["LoadCredential"], credential => credential.StartsWith("imap", StringComparison.Ordinal) || credential.StartsWith("smtp", StringComparison.Ordinal));
        Assert.DoesNotContain(web["Environment"], setting => setting.Contains("Mail__", StringComparison.Ordinal));
        Assert.Contains(worker["LoadCredential"], credential => credential.StartsWith("imap-password:", StringComparison.Ordinal));
        Assert.NotEqual(web["User"].Single(), worker["User"].Single());
        Assert.Equal("web", Role(web));
        Assert.Equal("worker", Role(worker));
    }

    [Theory]
    [InlineData("secureintake-web.service")]
    [InlineData("secureintake-worker.service")]
    public void Each_unit_may_write_only_the_blob_directory_and_holds_no_capability(string unit)
    {
        var settings = Settings(unit);

        Assert.Equal(["strict"], settings["ProtectSystem"]);
        Assert.Equal(["/var/lib/secureintake/blobs"], settings["ReadWritePaths"]);
        Assert.Equal([""], settings["CapabilityBoundingSet"]);
        Assert.Equal(["yes"], settings["NoNewPrivileges"]);
        Assert.Equal(["yes"], settings["PrivateTmp"]);
        Assert.Contains("pepper:/etc/secureintake/credentials/pepper", settings["LoadCredential"]);
        // Secrets come from credential files, never from the unit's environment, which `systemctl show` prints.
        Assert.DoesNotContain(settings["Environment"], setting => setting.Contains("Password=", StringComparison.Ordinal) || setting.Contains("Pepper=", StringComparison.Ordinal));
    }

    public void Dispose() => _root.Dispose();

    private static string Role(Dictionary<string, List<string>> settings) => settings["ExecStart"].Single().Split(' ')[1];

    // A unit's [Service] settings; a key given twice keeps both values, in order, as systemd reads lists.
    private static Dictionary<string, List<string>> Settings(string unit)
    {
        var settings = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var inService = false;
        foreach (var raw in File.ReadLines(DeployFolder.File("systemd", unit)))
        {
            var line = raw.Trim();
            if (line.StartsWith('['))
            {
                inService = line == "[Service]";
                continue;
            }

            if (!inService || line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var equals = line.IndexOf('=', StringComparison.Ordinal);
            var key = line[..equals];
            if (!settings.TryGetValue(key, out var values))
            {
                settings[key] = values = [];
            }

            values.AddRange(key == "Environment" ? line[(equals + 1)..].Split(' ') : [line[(equals + 1)..]]);
        }

        foreach (var key in new[] { "LoadCredential", "Environment" })
        {
            settings.TryAdd(key, []);
        }

        return settings;
    }
}
