using System.Text;
using System.Text.Json.Nodes;
using SecureIntake.Core.Blobs;
using SecureIntake.Server.Tests.Desk;
using SecureIntake.Testing;

namespace SecureIntake.Server.Tests.Backup;

/// <summary>`secureintake backup` on a running service, and `secureintake restore` of what it wrote onto a new database and blob directory.</summary>
public sealed class BackupRestoreTests(BackupTestBed bed) : IClassFixture<BackupTestBed>
{
    [Fact]
    public async Task A_backup_of_a_running_service_restores_with_every_submission_on_the_desk_decrypting_to_the_same_bytes()
    {
        Assert.True(bed.BackupRun.ExitCode == 0, bed.BackupRun.Error);
        Assert.Contains("pepper is NOT in the backup", bed.BackupRun.OutputText, StringComparison.Ordinal);
        var database = await BackupTestBed.EmptyDatabaseAsync();
        using var blobs = new TemporaryDirectory("si-restored-blobs-");

        var restore = await BackupTestBed.RestoreAsync(database, blobs.Path, bed.Backup);

        Assert.True(restore.ExitCode == 0, restore.Error);
        Assert.Contains("restored 2 submissions", restore.OutputText, StringComparison.Ordinal);
        var migrate = (await SecureIntakeCli.RunAsync(database, "migrate", $"--Storage:BlobDirectory={blobs.Path}")).EnsureSuccess("migrate");
        Assert.Equal("database schema is up to date", migrate.OutputText.Trim());
        foreach (var blob in Directory.GetFiles(blobs.Path))
        {
            // As the blob store writes them: owner read-write, group read, nothing for others, one fixed time.
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(blob) & ~UnixFileMode.GroupWrite);
            Assert.Equal(BlobStore.FixedModificationTime, File.GetLastWriteTimeUtc(blob));
        }

        await using var restored = await SecureIntakeCli.StartReadyAsync(database, "web", $"--Storage:BlobDirectory={blobs.Path}");
        using var browser = WitnessBrowserFor(restored);
        using (var signIn = await DeskService.SignInAsync(browser, BackupTestBed.Editor, DeskService.Password, bed.Service.NextCode(BackupTestBed.Editor, bed.TotpSecret)))
        {
            Assert.Equal(System.Net.HttpStatusCode.Redirect, signIn.StatusCode);
        }

        Assert.Equal(bed.Before.Keys.Order(StringComparer.Ordinal), await BackupTestBed.SubmissionIdsAsync(browser));
        var plaintexts = new List<byte[]>();
        foreach (var (id, before) in bed.Before)
        {
            var after = await bed.ItemsAsync(browser, id);
            Assert.Equal(before.Select(i => (i.Name, Convert.ToHexString(i.Ciphertext), Convert.ToHexString(i.Plaintext))),
                after.Select(i => (i.Name, Convert.ToHexString(i.Ciphertext), Convert.ToHexString(i.Plaintext))));
            plaintexts.AddRange(after.Select(i => i.Plaintext));
        }

        // The web submission's file and the piped mail, byte for byte, among what gpg decrypted from the restored copy.
        Assert.Contains(plaintexts, p => p.AsSpan().SequenceEqual(bed.Document));
        Assert.Contains(plaintexts, p => p.AsSpan().SequenceEqual(BackupTestBed.Mail));
    }

    [Fact]
    public async Task Restore_refuses_a_backup_cut_short_before_its_manifest_and_writes_nothing()
    {
        var copy = bed.CopyOfBackup();
        File.Delete(Path.Combine(copy, "manifest.json"));

        var (result, database, blobs) = await RestoreIntoEmptyAsync(copy);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("has no manifest.json", result.Error, StringComparison.Ordinal);
        await AssertNothingWrittenAsync(database, blobs);
    }

    [Fact]
    public async Task Restore_refuses_a_backup_with_a_truncated_blob_and_writes_nothing()
    {
        var copy = bed.CopyOfBackup();
        var blob = Directory.GetFiles(Path.Combine(copy, "blobs")).OrderByDescending(f => new FileInfo(f).Length).First();
        await using (var file = new FileStream(blob, FileMode.Open, FileAccess.Write))
        {
            file.SetLength(file.Length / 2);
        }

        var (result, database, blobs) = await RestoreIntoEmptyAsync(copy);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"the backup is damaged: 'blobs/{Path.GetFileName(blob)}'", result.Error, StringComparison.Ordinal);
        await AssertNothingWrittenAsync(database, blobs);
    }

    [Fact]
    public async Task Restore_refuses_a_backup_with_a_missing_blob_and_writes_nothing()
    {
        var copy = bed.CopyOfBackup();
        var blob = Directory.GetFiles(Path.Combine(copy, "blobs")).Order(StringComparer.Ordinal).Last();
        File.Delete(blob);

        var (result, database, blobs) = await RestoreIntoEmptyAsync(copy);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"missing (blobs/{Path.GetFileName(blob)})", result.Error, StringComparison.Ordinal);
        await AssertNothingWrittenAsync(database, blobs);
    }

    [Fact]
    public async Task Restore_refuses_a_file_the_manifest_does_not_name_and_writes_nothing()
    {
        var copy = bed.CopyOfBackup();
        await File.WriteAllTextAsync(Path.Combine(copy, "blobs", "notes.txt"), "not part of the backup");

        var (result, database, blobs) = await RestoreIntoEmptyAsync(copy);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("does not name (blobs/notes.txt)", result.Error, StringComparison.Ordinal);
        await AssertNothingWrittenAsync(database, blobs);
    }

    [Fact]
    public async Task Restore_refuses_a_database_that_is_not_empty_and_leaves_it_and_the_blob_directory_as_they_were()
    {
        var database = await BackupTestBed.EmptyDatabaseAsync();
        using var blobs = new TemporaryDirectory("si-restore-target-");
        (await SecureIntakeCli.RunAsync(database, "migrate", $"--Storage:BlobDirectory={blobs.Path}")).EnsureSuccess("migrate");
        var tables = await BackupTestBed.TableCountAsync(database);

        var result = await BackupTestBed.RestoreAsync(database, blobs.Path, bed.Backup);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("is not empty (it holds hangfire", result.Error, StringComparison.Ordinal);
        Assert.Equal(tables, await BackupTestBed.TableCountAsync(database));
        Assert.Equal(0L, await ScalarAsync(database, "SELECT count(*) FROM submissions"));
        Assert.Empty(Directory.EnumerateFileSystemEntries(blobs.Path));
    }

    [Fact]
    public async Task A_dump_that_fails_to_load_leaves_the_database_empty_and_removes_the_blobs_it_copied()
    {
        // A dump PostgreSQL cannot load, with a manifest that matches it: only the load itself can fail.
        var copy = bed.CopyOfBackup();
        var dump = Path.Combine(copy, "database.dump");
        var bytes = await File.ReadAllBytesAsync(dump);
        // Cut in the middle: the schema loads, then the data ends early.
        var kept = bytes.Length / 2;
        await File.WriteAllBytesAsync(dump, bytes.AsSpan(0, kept).ToArray());
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(copy, "manifest.json")))!;
        var entry = manifest["files"]!.AsArray().Single(f => (string?)f!["path"] == "database.dump")!;
        entry["bytes"] = kept;
        entry["sha256"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(await File.ReadAllBytesAsync(dump)));
        await File.WriteAllTextAsync(Path.Combine(copy, "manifest.json"), manifest.ToJsonString());

        var (result, database, blobs) = await RestoreIntoEmptyAsync(copy);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("pg_restore failed", result.Error, StringComparison.Ordinal);
        Assert.Contains("the database is left empty as it was; the blob directory is empty again", result.Error, StringComparison.Ordinal);
        await AssertNothingWrittenAsync(database, blobs);
    }

    [Fact]
    public async Task Backup_refuses_a_folder_that_is_not_empty_and_leaves_it_as_it_was()
    {
        using var target = new TemporaryDirectory("si-backup-target-");
        await File.WriteAllTextAsync(target.File("last-week.txt"), "someone's file");

        var result = await BackupAsync(bed.Service.BlobDirectory, target.Path);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("is not empty; back up into a new or empty folder", result.Error, StringComparison.Ordinal);
        Assert.Equal([target.File("last-week.txt")], Directory.GetFileSystemEntries(target.Path));
    }

    [Fact]
    public async Task Backup_fails_clearly_when_a_blob_the_database_names_is_missing_and_keeps_no_partial_copy()
    {
        using var blobs = CopyOfBlobs(out var items);
        File.Delete(Path.Combine(blobs.Path, items[0]));
        using var parent = new TemporaryDirectory("si-backup-target-");
        var target = parent.File("backup");

        var result = await BackupAsync(blobs.Path, target);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"the database names encrypted item {items[0]}, but Storage:BlobDirectory", result.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(target), "a failed backup left a folder behind");
    }

    [Fact]
    public async Task Backup_fails_clearly_when_a_blob_is_shorter_than_stored_and_keeps_no_partial_copy()
    {
        using var blobs = CopyOfBlobs(out var items);
        await using (var file = new FileStream(Path.Combine(blobs.Path, items[^1]), FileMode.Open, FileAccess.Write))
        {
            file.SetLength(file.Length - 1);
        }

        using var target = new TemporaryDirectory("si-backup-target-");

        var result = await BackupAsync(blobs.Path, target.Path);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"encrypted item {items[^1]} in Storage:BlobDirectory is", result.Error, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(target.Path));
    }

    /// <summary>The test bed's blobs that its database names, in a directory of their own, so a test may damage them.</summary>
    private TemporaryDirectory CopyOfBlobs(out List<string> items)
    {
        var copy = new TemporaryDirectory("si-backup-blobs-");
        items = [.. Directory.GetFiles(Path.Combine(bed.Backup, "blobs")).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal)];
        foreach (var item in items)
        {
            File.Copy(Path.Combine(bed.Service.BlobDirectory, item), copy.File(item));
        }

        return copy;
    }

    private Task<ToolResult> BackupAsync(string blobDirectory, string target) =>
        SecureIntakeCli.RunAsync(bed.Service.Database, "backup", "--to", target, $"--Storage:BlobDirectory={blobDirectory}");

    private static async Task<(ToolResult Result, string Database, string Blobs)> RestoreIntoEmptyAsync(string from)
    {
        var database = await BackupTestBed.EmptyDatabaseAsync();
        var blobs = Directory.CreateTempSubdirectory("si-restore-target-").FullName;
        return (await BackupTestBed.RestoreAsync(database, blobs, from), database, blobs);
    }

    private static async Task AssertNothingWrittenAsync(string database, string blobs)
    {
        Assert.Equal(0L, await BackupTestBed.TableCountAsync(database));
        Assert.Empty(Directory.EnumerateFileSystemEntries(blobs));
        Directory.Delete(blobs);
    }

    private static async Task<long> ScalarAsync(string database, string sql)
    {
        await using var dataSource = Npgsql.NpgsqlDataSource.Create(database);
        await using var command = dataSource.CreateCommand(sql);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static HttpClient WitnessBrowserFor(RunningService service) =>
        SecureIntake.Server.Tests.Witness.WitnessForms.NewBrowserlikeClient(service.DeskAddress);
}
