using Npgsql;
using SecureIntake.Core.Blobs;

namespace SecureIntake.Core.Backup;

/// <summary>What a finished restore brought back.</summary>
public sealed record RestoreSummary(int Blobs, long Submissions);

/// <summary>
/// Brings a backup back onto an empty database and an empty blob directory. The whole folder is checked against
/// its manifest before anything is touched; the blobs are copied (checked again on the way) and then the dump is
/// loaded in one transaction. If the load fails, the database is as empty as before and the copied blobs are
/// removed again, so nothing is left half-restored.
/// </summary>
public static class BackupRestorer
{
    // As the blob store writes them: readable by the other role through the shared, setgid group (BlobStore.Create).
    private const UnixFileMode BlobMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead;

    public static async Task<RestoreSummary> RestoreAsync(string connectionString, string blobDirectory, string source, PostgresTools tools, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tools);
        source = Path.GetFullPath(source);
        blobDirectory = Path.GetFullPath(blobDirectory);
        var manifest = await VerifyAsync(source, cancellationToken).ConfigureAwait(false);

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await RefuseNonEmptyDatabaseAsync(connection, cancellationToken).ConfigureAwait(false);
        RefuseNonEmptyBlobDirectory(blobDirectory);
        var major = connection.PostgreSqlVersion.Major;
        if (manifest.PostgresMajorVersion > major)
        {
            throw new BackupRefusedException(
                $"the backup was taken from PostgreSQL {manifest.PostgresMajorVersion} and this server runs {major}; restore it onto PostgreSQL {manifest.PostgresMajorVersion} or newer (nothing was changed)");
        }

        // Found before any blob is copied: without pg_restore nothing is changed.
        var pgRestore = await tools.FindAsync("pg_restore", major, cancellationToken).ConfigureAwait(false);

        var written = new List<string>();
        try
        {
            foreach (var file in manifest.Files.Where(f => f.Path != BackupManifest.DumpPath))
            {
                var destination = Path.Combine(blobDirectory, BackupManifest.BlobIdOf(file.Path)!.Value.ToString("N"));
                await CopyBlobAsync(Path.Combine(source, file.Path), destination, file, written, cancellationToken).ConfigureAwait(false);
            }

            BackupFiles.FlushDirectory(blobDirectory);

            var database = new NpgsqlConnectionStringBuilder(connectionString).Database ?? new NpgsqlConnectionStringBuilder(connectionString).Username ?? System.Environment.UserName;
            var (exitCode, error) = await PostgresTools.RunAsync(pgRestore,
                [$"--dbname={database}", "--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges", "--no-password",
                    Path.Combine(source, BackupManifest.DumpPath)],
                PostgresTools.Environment(connectionString), cancellationToken).ConfigureAwait(false);
            if (exitCode != 0)
            {
                throw new BackupRefusedException($"pg_restore failed (exit {exitCode}): {error}");
            }
        }
        catch (Exception e)
        {
            var removed = RemoveBlobs(blobDirectory, written);
            var left = removed ? "the blob directory is empty again" : "some copied blobs could not be removed: empty the blob directory before trying again";
            throw new BackupRefusedException(
                $"restore failed: {(e is BackupRefusedException ? e.Message : e.GetType().Name + ": " + e.Message)}. " +
                $"The database load runs in one transaction, so the database is left empty as it was; {left}",
                e is BackupRefusedException refused ? refused.ExitCode : BackupRefusedException.Refused);
        }

        var submissions = (long)(await new NpgsqlCommand("SELECT count(*) FROM submissions", connection).ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        return new RestoreSummary(written.Count, submissions);
    }

    /// <summary>
    /// Every file the manifest names is there with its size and SHA-256, and nothing else is: a backup cut short
    /// (no manifest), a truncated, missing or changed file, or a stray one is refused before anything is touched.
    /// </summary>
    public static async Task<BackupManifest> VerifyAsync(string source, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(source))
        {
            throw new BackupRefusedException($"'{source}' is not a folder; nothing was changed");
        }

        var manifestPath = Path.Combine(source, BackupManifest.FileName);
        if (!File.Exists(manifestPath))
        {
            throw new BackupRefusedException(
                $"'{source}' has no {BackupManifest.FileName}: it is not a backup, or one that was cut short (a backup writes its manifest last). Nothing was changed");
        }

        var manifest = BackupManifest.Parse(await File.ReadAllBytesAsync(manifestPath, cancellationToken).ConfigureAwait(false));
        var present = Directory.EnumerateFiles(source, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = false })
            .Select(path => Path.GetRelativePath(source, path))
            .Where(path => path != BackupManifest.FileName)
            .ToHashSet(StringComparer.Ordinal);
        var named = manifest.Files.Select(f => f.Path).ToHashSet(StringComparer.Ordinal);
        var missing = named.Except(present).Order(StringComparer.Ordinal).ToList();
        var extra = present.Except(named).Order(StringComparer.Ordinal).ToList();
        if (missing.Count > 0)
        {
            throw new BackupRefusedException(
                $"the backup is incomplete: {missing.Count} file(s) its manifest names are missing ({Sample(missing)}). Nothing was changed");
        }

        if (extra.Count > 0)
        {
            throw new BackupRefusedException(
                $"the backup holds {extra.Count} file(s) its manifest does not name ({Sample(extra)}): it is not the copy the manifest describes. Nothing was changed");
        }

        foreach (var file in manifest.Files)
        {
            var (bytes, digest) = await BackupFiles.DigestAsync(Path.Combine(source, file.Path), cancellationToken).ConfigureAwait(false);
            if (bytes != file.Bytes || digest != file.Sha256)
            {
                throw new BackupRefusedException(
                    $"the backup is damaged: '{file.Path}' is {bytes} bytes with SHA-256 {digest}, but its manifest says {file.Bytes} bytes with {file.Sha256}. Nothing was changed");
            }
        }

        return manifest;
    }

    private static async Task RefuseNonEmptyDatabaseAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        // Any table, view or sequence outside the system schemas, or any schema of its own, means someone's data.
        await using var command = new NpgsqlCommand("""
            SELECT n.nspname || coalesce('.' || c.relname, '') FROM pg_namespace n
            LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
            WHERE n.nspname NOT IN ('information_schema') AND n.nspname NOT LIKE 'pg\_%'
              AND (c.oid IS NOT NULL OR n.nspname <> 'public')
            ORDER BY 1 LIMIT 5
            """, connection);
        var found = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                found.Add(reader.GetString(0));
            }
        }

        if (found.Count > 0)
        {
            throw new BackupRefusedException(
                $"the database '{connection.Database}' is not empty (it holds {string.Join(", ", found)}{(found.Count == 5 ? ", ..." : "")}); " +
                "restore only onto a new, empty database (createdb OWNER the service's role). Nothing was changed");
        }
    }

    private static void RefuseNonEmptyBlobDirectory(string blobDirectory)
    {
        if (Directory.EnumerateFileSystemEntries(blobDirectory).Any())
        {
            throw new BackupRefusedException($"Storage:BlobDirectory '{blobDirectory}' is not empty; restore only into an empty blob directory. Nothing was changed");
        }
    }

    private static async Task CopyBlobAsync(string from, string destination, BackupFile expected, List<string> written, CancellationToken cancellationToken)
    {
        await using var source = BackupFiles.OpenRead(from);
        written.Add(destination);
        // As the blob store leaves every blob: one fixed time, so the disk does not tell when each arrived.
        var (bytes, digest) = await BackupFiles.CopyAsync(source, destination, BlobMode, cancellationToken, BlobStore.FixedModificationTime).ConfigureAwait(false);
        // Checked again as copied: the folder may have changed since it was verified.
        if (bytes != expected.Bytes || digest != expected.Sha256)
        {
            throw new BackupRefusedException($"'{expected.Path}' changed while it was being restored (now {bytes} bytes, SHA-256 {digest})");
        }
    }

    private static bool RemoveBlobs(string blobDirectory, List<string> written)
    {
        var removed = true;
        foreach (var path in written)
        {
            try
            {
                File.Delete(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                removed = false;
            }
        }

        try
        {
            BackupFiles.FlushDirectory(blobDirectory);
        }
        catch (IOException)
        {
            removed = false;
        }

        return removed;
    }

    private static string Sample(List<string> paths) => string.Join(", ", paths.Take(5)) + (paths.Count > 5 ? ", ..." : "");
}
