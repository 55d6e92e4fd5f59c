using Npgsql;

namespace SecureIntake.Core.Backup;

/// <summary>What a finished backup holds.</summary>
public sealed record BackupSummary(string Folder, int Blobs, long TotalBytes);

/// <summary>
/// Writes a consistent backup while the service runs. One REPEATABLE READ transaction exports its snapshot, lists
/// the encrypted items that snapshot names and takes a key-share lock on each row; pg_dump dumps that same
/// snapshot. The locks keep those rows from being deleted (by an editor or retention, which delete the row first
/// and the blob after) until every blob is copied, so no blob the dump names can vanish mid-backup; intake and
/// triage go on, and a delete waits until the backup is done. Blobs written after the snapshot are not in the
/// dump and not copied. The manifest is written last, atomically: a backup cut short has none.
/// </summary>
public static class BackupWriter
{
    private const int SnapshotAttempts = 5;
    private const string SerializationFailure = "40001";
    private const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode FolderMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public static async Task<BackupSummary> WriteAsync(string connectionString, string blobDirectory, string target, PostgresTools tools, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tools);
        target = Path.GetFullPath(target);
        blobDirectory = Path.GetFullPath(blobDirectory);
        RefuseTarget(target, blobDirectory);

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        var major = connection.PostgreSqlVersion.Major;
        // Found before the folder is made: without pg_dump nothing is written at all.
        var pgDump = await tools.FindAsync("pg_dump", major, cancellationToken).ConfigureAwait(false);

        var created = !Directory.Exists(target);
        Directory.CreateDirectory(target, FolderMode);
        try
        {
            var blobs = Path.Combine(target, BackupManifest.BlobFolder);
            Directory.CreateDirectory(blobs, FolderMode);
            var files = await CopyConsistentlyAsync(connection, connectionString, pgDump, blobDirectory, target, cancellationToken).ConfigureAwait(false);
            BackupFiles.FlushDirectory(blobs);
            BackupFiles.FlushDirectory(target);

            var manifest = new BackupManifest(BackupManifest.CurrentFormat, DateTimeOffset.UtcNow, major, files);
            var temporary = Path.Combine(target, BackupManifest.FileName + ".partial");
            await using (var stream = new FileStream(temporary, new FileStreamOptions { Mode = System.IO.FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = FileMode }))
            {
                await stream.WriteAsync(manifest.ToJson(), cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, Path.Combine(target, BackupManifest.FileName));
            BackupFiles.FlushDirectory(target);
            return new BackupSummary(target, files.Count - 1, files.Sum(f => f.Bytes));
        }
        catch
        {
            Clean(target, created);
            throw;
        }
    }

    private static void RefuseTarget(string target, string blobDirectory)
    {
        if (File.Exists(target))
        {
            throw new BackupRefusedException($"'{target}' is a file; back up into a new or empty folder");
        }

        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
        {
            throw new BackupRefusedException($"'{target}' is not empty; back up into a new or empty folder (nothing was written)");
        }

        var inside = Path.GetRelativePath(blobDirectory, target);
        if (inside == "." || !(inside.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(inside)))
        {
            throw new BackupRefusedException($"'{target}' is inside Storage:BlobDirectory ('{blobDirectory}'); keep backups elsewhere (nothing was written)");
        }
    }

    private static async Task<List<BackupFile>> CopyConsistentlyAsync(NpgsqlConnection connection, string connectionString, string pgDump, string blobDirectory,
        string target, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
            List<(Guid Id, long Bytes)> items;
            string snapshot;
            try
            {
                snapshot = (string)(await new NpgsqlCommand("SELECT pg_export_snapshot()", connection, transaction).ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
                if (await new NpgsqlCommand("SELECT to_regclass('submission_items') IS NULL", connection, transaction).ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true)
                {
                    throw new BackupRefusedException("the database holds no SecureIntake schema (no submission_items table): is Database:ConnectionString the right database?");
                }

                items = await LockItemsAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException e) when (e.SqlState == SerializationFailure && attempt < SnapshotAttempts)
            {
                // A submission was deleted between the snapshot and the lock: take a newer snapshot.
                continue;
            }

            var dump = Path.Combine(target, BackupManifest.DumpPath);
            var (exitCode, error) = await PostgresTools.RunAsync(pgDump,
                ["--format=custom", $"--snapshot={snapshot}", $"--file={dump}", "--no-password",
                    // Hangfire's locks belong to processes that will not exist where the backup is restored.
                    "--exclude-table-data=hangfire.lock"],
                PostgresTools.Environment(connectionString), cancellationToken).ConfigureAwait(false);
            if (exitCode != 0)
            {
                throw new BackupRefusedException($"pg_dump failed (exit {exitCode}): {error}", BackupRefusedException.Unavailable);
            }

            BackupFiles.FlushFile(dump);
            var (dumpBytes, dumpDigest) = await BackupFiles.DigestAsync(dump, cancellationToken).ConfigureAwait(false);
            var files = new List<BackupFile> { new(BackupManifest.DumpPath, dumpBytes, dumpDigest) };
            foreach (var (id, bytes) in items)
            {
                files.Add(await CopyBlobAsync(blobDirectory, target, id, bytes, cancellationToken).ConfigureAwait(false));
            }

            // Only now may the rows (and then their blobs) be deleted.
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return files;
        }
    }

    private static async Task<List<(Guid Id, long Bytes)>> LockItemsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        var items = new List<(Guid, long)>();
        await using var command = new NpgsqlCommand("SELECT COALESCE(blob_id, id), ciphertext_bytes FROM submission_items ORDER BY id FOR KEY SHARE", connection, transaction);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            items.Add((reader.GetGuid(0), reader.GetInt64(1)));
        }

        return items;
    }

    private static async Task<BackupFile> CopyBlobAsync(string blobDirectory, string target, Guid id, long expectedBytes, CancellationToken cancellationToken)
    {
        var path = BackupManifest.BlobPath(id);
        FileStream source;
        try
        {
            source = BackupFiles.OpenRead(Path.Combine(blobDirectory, id.ToString("N")));
        }
        catch (FileNotFoundException)
        {
            throw new BackupRefusedException(
                $"the database names encrypted item {id:N}, but Storage:BlobDirectory ('{blobDirectory}') has no file for it. " +
                "The backup would be incomplete, so it was not kept; check that this is the service's blob directory");
        }

        await using (source)
        {
            var (bytes, digest) = await BackupFiles.CopyAsync(source, Path.Combine(target, path), FileMode, cancellationToken).ConfigureAwait(false);
            return bytes == expectedBytes
                ? new BackupFile(path, bytes, digest)
                : throw new BackupRefusedException(
                    $"encrypted item {id:N} in Storage:BlobDirectory is {bytes} bytes, but the database says it was stored with {expectedBytes}: it is damaged. " +
                    "The backup would not restore it, so it was not kept");
        }
    }

    /// <summary>Removes what this backup wrote, so a failed one leaves no folder that looks like a backup.</summary>
    private static void Clean(string target, bool created)
    {
        try
        {
            foreach (var entry in new[] { BackupManifest.BlobFolder, BackupManifest.DumpPath, BackupManifest.FileName + ".partial" }.Select(e => Path.Combine(target, e)))
            {
                if (Directory.Exists(entry))
                {
                    Directory.Delete(entry, recursive: true);
                }
                else
                {
                    File.Delete(entry);
                }
            }

            if (created)
            {
                Directory.Delete(target);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // What stays has no manifest, and restore refuses a folder without one.
        }
    }
}
