using System.Text;
using SecureIntake.Core.Blobs;
using SecureIntake.Server.Tests.Desk;
using SecureIntake.Testing;

namespace SecureIntake.Server.Tests.Backup;

/// <summary>`secureintake backup` on a running service, and `secureintake restore` of what it wrote onto a new database and blob directory.</summary>
public sealed partial class BackupRestoreTests(BackupTestBed bed) : IClassFixture<BackupTestBed>
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
    public async Task A_dump_that_fails_to_load_midway_leaves_the_database_empty_and_removes_the_blobs_it_copied()
    {
        // The load fails after the first tables exist, as a full disk or a lost connection would make it fail: an event
        // trigger (no table, so the database still counts as empty) refuses the table that comes late in the dump.
        var database = await BackupTestBed.EmptyDatabaseAsync();
        await using (var dataSource = Npgsql.NpgsqlDataSource.Create(database))
        await using (var command = dataSource.CreateCommand("""
            CREATE FUNCTION public.refuse_items() RETURNS event_trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands() WHERE object_identity = 'public.submission_items') THEN
                    RAISE EXCEPTION 'no room left (test)';
                END IF;
            END $$;
            CREATE EVENT TRIGGER refuse_items ON ddl_command_end EXECUTE FUNCTION public.refuse_items();
            """))
        {
            await command.ExecuteNonQueryAsync();
        }

        var blobs = Directory.CreateTempSubdirectory("si-restore-target-").FullName;

        var result = await BackupTestBed.RestoreAsync(database, blobs, bed.Backup);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("pg_restore failed", result.Error, StringComparison.Ordinal);
        Assert.Contains("no room left (test)", result.Error, StringComparison.Ordinal);
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

    [Fact]
    public async Task A_submission_deleted_while_a_backup_runs_waits_until_the_backup_has_copied_its_blobs()
    {
        // A third submission, deleted mid-backup as an editor or retention deletes one: rows first (committed), then blobs.
        (await ExternalTool.RunAsync("dotnet", [BackupTestBed.Program, "ingest-mail", $"--Storage:BlobDirectory={bed.Service.BlobDirectory}"], BackupTestBed.Mail,
            SecureIntakeCli.EnvironmentFor(bed.Service.Database), TimeSpan.FromMinutes(2))).EnsureSuccess("ingest-mail");
        await using var dataSource = Npgsql.NpgsqlDataSource.Create(bed.Service.Database + ";ApplicationName=backup-test");
        var doomed = await QueryAsync<Guid>(dataSource, "SELECT id FROM submissions WHERE NOT (id::text = ANY(@Known))", bed.Before.Keys.ToArray());
        var doomedItems = await QueryAsync<Guid>(dataSource, "SELECT id FROM submission_items WHERE submission_id = @Known", doomed.Single());

        // pg_dump starts only once the backup holds its snapshot and row locks; holding a table it must dump keeps it there.
        await using var holder = await dataSource.OpenConnectionAsync();
        await using var holding = await holder.BeginTransactionAsync();
        await new Npgsql.NpgsqlCommand("LOCK TABLE audit_log IN ACCESS EXCLUSIVE MODE", holder, holding).ExecuteNonQueryAsync();
        using var parent = new TemporaryDirectory("si-backup-target-");
        var backup = BackupAsync(bed.Service.BlobDirectory, parent.File("backup"));
        await WaitUntilAsync(dataSource, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'secureintake-backup' AND wait_event_type = 'Lock'", backup);

        var deleting = Task.Run(async () =>
        {
            await using var connection = await dataSource.OpenConnectionAsync();
            await using (var transaction = await connection.BeginTransactionAsync())
            {
                await new Npgsql.NpgsqlCommand($"DELETE FROM submission_items WHERE submission_id = '{doomed.Single()}'", connection, transaction).ExecuteNonQueryAsync();
                await new Npgsql.NpgsqlCommand($"DELETE FROM submissions WHERE id = '{doomed.Single()}'", connection, transaction).ExecuteNonQueryAsync();
                await transaction.CommitAsync();
            }

            foreach (var item in doomedItems)
            {
                File.Delete(Path.Combine(bed.Service.BlobDirectory, item.ToString("N")));
            }
        });
        // The delete waits on the backup's row locks (or, were they missing, it finishes and takes the blobs with it).
        await WaitUntilAsync(dataSource, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'backup-test' AND wait_event_type = 'Lock'", deleting);
        await holding.RollbackAsync();

        var result = await backup;
        await deleting;

        Assert.True(result.ExitCode == 0, result.Error);
        var manifest = await File.ReadAllTextAsync(Path.Combine(parent.File("backup"), "manifest.json"));
        Assert.All(doomedItems, item => Assert.Contains($"blobs/{item:N}", manifest, StringComparison.Ordinal));
        Assert.All(doomedItems, item => Assert.False(File.Exists(Path.Combine(bed.Service.BlobDirectory, item.ToString("N")))));
    }

    [Fact]
    public async Task A_backup_killed_midway_leaves_a_folder_that_restore_refuses()
    {
        await using var dataSource = Npgsql.NpgsqlDataSource.Create(bed.Service.Database + ";ApplicationName=backup-test");
        await using var holder = await dataSource.OpenConnectionAsync();
        await using var holding = await holder.BeginTransactionAsync();
        await new Npgsql.NpgsqlCommand("LOCK TABLE audit_log IN ACCESS EXCLUSIVE MODE", holder, holding).ExecuteNonQueryAsync();
        using var parent = new TemporaryDirectory("si-backup-target-");
        var target = parent.File("backup");
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { BackupTestBed.Program, "backup", "--to", target, $"--Storage:BlobDirectory={bed.Service.BlobDirectory}" })
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in SecureIntakeCli.EnvironmentFor(bed.Service.Database))
        {
            start.Environment[key] = value;
        }

        using var backup = System.Diagnostics.Process.Start(start)!;
        await WaitUntilAsync(dataSource, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'secureintake-backup' AND wait_event_type = 'Lock'",
            backup.WaitForExitAsync());
        Assert.False(backup.HasExited, "the backup ended before it could be cut short");
        backup.Kill(entireProcessTree: true); // as a power cut or an OOM kill would
        await backup.WaitForExitAsync();
        await holding.RollbackAsync();

        Assert.True(Directory.Exists(target), "the backup had not started writing");
        var (result, database, blobs) = await RestoreIntoEmptyAsync(target);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("has no manifest.json", result.Error, StringComparison.Ordinal);
        await AssertNothingWrittenAsync(database, blobs);
    }

    private static async Task<List<T>> QueryAsync<T>(Npgsql.NpgsqlDataSource dataSource, string sql, object known)
    {
        await using var command = dataSource.CreateCommand(sql);
        command.Parameters.AddWithValue("Known", known);
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<T>();
        while (await reader.ReadAsync())
        {
            values.Add(reader.GetFieldValue<T>(0));
        }

        return values;
    }

    /// <summary>Waits until <paramref name="sql"/> counts a row, or <paramref name="task"/> ends first (then the test goes on and its asserts decide).</summary>
    private static async Task WaitUntilAsync(Npgsql.NpgsqlDataSource dataSource, string sql, Task task)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!task.IsCompleted)
        {
            await using var command = dataSource.CreateCommand(sql);
            if ((long)(await command.ExecuteScalarAsync())! > 0)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"nothing matched within 60 s: {sql}");
            await Task.Delay(50);
        }
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
