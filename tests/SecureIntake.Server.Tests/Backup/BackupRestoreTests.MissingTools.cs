using SecureIntake.Testing;

namespace SecureIntake.Server.Tests.Backup;

/// <summary>
/// `backup` and `restore` on a machine without PostgreSQL's client tools: Backup:ToolDirectories points the search at an
/// empty folder, as a server with only the service's release and no postgresql-client package would leave it.
/// </summary>
public sealed partial class BackupRestoreTests
{
    [Fact]
    public async Task Backup_without_pg_dump_says_how_to_install_it_and_writes_nothing()
    {
        using var nowhere = new TemporaryDirectory("si-no-tools-");
        using var parent = new TemporaryDirectory("si-backup-target-");
        var target = parent.File("backup");

        var result = await SecureIntakeCli.RunAsync(bed.Service.Database, "backup", "--to", target,
            $"--Storage:BlobDirectory={bed.Service.BlobDirectory}", $"--Backup:ToolDirectories:0={nowhere.Path}");

        Assert.True(result.ExitCode == 3, $"exit {result.ExitCode}: {result.OutputText}{result.Error}");
        Assert.Contains("pg_dump for PostgreSQL", result.Error, StringComparison.Ordinal);
        Assert.Contains($"looked in {nowhere.Path}", result.Error, StringComparison.Ordinal);
        Assert.Contains("apt-get install postgresql-client-", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("backup written", result.OutputText, StringComparison.Ordinal);
        Assert.False(Directory.Exists(target), "a backup without pg_dump made its folder");
    }

    [Fact]
    public async Task Backup_without_pg_dump_leaves_an_empty_folder_empty()
    {
        using var nowhere = new TemporaryDirectory("si-no-tools-");
        using var target = new TemporaryDirectory("si-backup-target-");

        var result = await SecureIntakeCli.RunAsync(bed.Service.Database, "backup", "--to", target.Path,
            $"--Storage:BlobDirectory={bed.Service.BlobDirectory}", $"--Backup:ToolDirectories:0={nowhere.Path}");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("pg_dump", result.Error, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(target.Path));
    }

    [Fact]
    public async Task Backup_refuses_a_pg_dump_of_another_major_version_and_writes_nothing()
    {
        // A pg_dump of another major version: an older one refuses a newer server, a newer one writes dumps an older
        // pg_restore may not read. The stand-in reports PostgreSQL 9 and would fail loudly were it run for a dump.
        using var tools = new TemporaryDirectory("si-old-tools-");
        var oldDump = tools.File("pg_dump");
        await File.WriteAllTextAsync(oldDump, "#!/bin/sh\n[ \"$1\" = --version ] && echo 'pg_dump (PostgreSQL) 9.6.24' && exit 0\nexit 99\n");
        File.SetUnixFileMode(oldDump, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        using var parent = new TemporaryDirectory("si-backup-target-");

        var result = await SecureIntakeCli.RunAsync(bed.Service.Database, "backup", "--to", parent.File("backup"),
            $"--Storage:BlobDirectory={bed.Service.BlobDirectory}", $"--Backup:ToolDirectories:0={tools.Path}");

        Assert.True(result.ExitCode == 3, $"exit {result.ExitCode}: {result.OutputText}{result.Error}");
        Assert.Contains($"(found {oldDump}, of another version)", result.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(parent.File("backup")));
    }

    [Fact]
    public async Task Restore_without_pg_restore_says_how_to_install_it_and_changes_nothing()
    {
        using var nowhere = new TemporaryDirectory("si-no-tools-");
        var database = await BackupTestBed.EmptyDatabaseAsync();
        var blobs = Directory.CreateTempSubdirectory("si-restore-target-").FullName;

        var result = await SecureIntakeCli.RunAsync(database, "restore", "--from", bed.Backup, $"--Storage:BlobDirectory={blobs}",
            $"--Backup:ToolDirectories:0={nowhere.Path}");

        Assert.True(result.ExitCode == 3, $"exit {result.ExitCode}: {result.OutputText}{result.Error}");
        Assert.Contains("pg_restore for PostgreSQL", result.Error, StringComparison.Ordinal);
        Assert.Contains("apt-get install postgresql-client-", result.Error, StringComparison.Ordinal);
        await AssertNothingWrittenAsync(database, blobs);
    }
}
