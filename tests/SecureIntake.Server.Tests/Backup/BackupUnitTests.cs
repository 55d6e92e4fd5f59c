using SecureIntake.Server.Tests.Deploy;
using SecureIntake.Testing;

namespace SecureIntake.Server.Tests.Backup;

/// <summary>deploy/systemd's backup service and timer, as systemd reads them.</summary>
public sealed class BackupUnitTests : IDisposable
{
    private readonly TemporaryDirectory _root = new("si-backup-units-");

    [Fact]
    public async Task Systemd_reads_the_backup_service_and_timer_without_a_complaint()
    {
        var systemdAnalyze = ExternalTool.Require("systemd-analyze", "systemd");
        var service = await File.ReadAllTextAsync(DeployFolder.File("systemd", "secureintake-backup.service"));
        // The release's program is not installed here; what the shell would run is checked by the command's own tests.
        Assert.Contains("/opt/secureintake/current/secureintake ", service, StringComparison.Ordinal);
        await File.WriteAllTextAsync(_root.File("secureintake-backup.service"), service);
        File.Copy(DeployFolder.File("systemd", "secureintake-backup.timer"), _root.File("secureintake-backup.timer"));

        var result = await ExternalTool.RunAsync(systemdAnalyze, ["verify", _root.File("secureintake-backup.service"), _root.File("secureintake-backup.timer")]);

        Assert.True(result.ExitCode == 0 && result.OutputText.Length == 0 && result.Error.Length == 0,
            $"systemd-analyze verify (exit {result.ExitCode}):\n{result.OutputText}{result.Error}");
    }

    [Fact]
    public void The_backup_unit_gets_no_pepper_and_may_write_only_the_backup_folder()
    {
        var lines = File.ReadAllLines(DeployFolder.File("systemd", "secureintake-backup.service")).Where(l => !l.StartsWith('#')).ToList();

        Assert.DoesNotContain(lines, l => l.Contains("pepper", StringComparison.OrdinalIgnoreCase) || l.StartsWith("LoadCredential", StringComparison.Ordinal));
        Assert.Equal(["ReadWritePaths=/var/backups/secureintake"], lines.Where(l => l.StartsWith("ReadWritePaths=", StringComparison.Ordinal)));
        Assert.Contains("ReadOnlyPaths=/var/lib/secureintake/blobs", lines);
    }

    public void Dispose() => _root.Dispose();
}
