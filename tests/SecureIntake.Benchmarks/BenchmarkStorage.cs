using Npgsql;
using SecureIntake.Testing;

namespace SecureIntake.Benchmarks;

/// <summary>
/// Where a benchmark keeps what the product keeps, and how it says so. A figure is only worth what it measured:
/// blobs go to a directory on disk (the product fsyncs each one before it answers), the database is a cluster with
/// PostgreSQL's production durability (fsync, synchronous_commit and full_page_writes on), and every benchmark
/// prints both, read back from the file system and from the server rather than echoed from what it asked for.
/// </summary>
internal static class BenchmarkStorage
{
    /// <summary>
    /// The parent for files that stand for the product's own: `--dir DIR`, else /var/tmp, which Debian keeps on disk
    /// (/tmp may be a tmpfs, where fsync costs nothing and proves nothing).
    /// </summary>
    public static string DiskParent(string[] arguments) =>
        DirectoryOption(arguments) ?? (Directory.Exists("/var/tmp") ? "/var/tmp" : Path.GetTempPath());

    /// <summary>A throwaway cluster with production durability, its data directory under <paramref name="parent"/>.</summary>
    public static Task<PostgresCluster> StartDatabaseAsync(string parent) => PostgresCluster.StartAsync(durable: true, parent);

    /// <summary>One line: the server's version, where its data lives and its durability settings, as the server reports them.</summary>
    public static async Task<string> DescribeAsync(PostgresCluster postgres)
    {
        await using var connection = new NpgsqlConnection(postgres.AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT current_setting('server_version'), current_setting('data_directory'), current_setting('fsync'),
                   current_setting('synchronous_commit'), current_setting('full_page_writes')
            """, connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        var data = reader.GetString(1);
        return $"PostgreSQL {reader.GetString(0)} in {data} ({FileSystemOf(data)}), fsync={reader.GetString(2)}, " +
            $"synchronous_commit={reader.GetString(3)}, full_page_writes={reader.GetString(4)}";
    }

    /// <summary>The file system a path lives on, and whether it is in memory.</summary>
    public static string FileSystemOf(string path) => MountOf(path) switch
    {
        null => "file system unknown",
        var mount when IsRam(mount[2]) => $"{mount[2]} at {mount[1]}: in memory, fsync does nothing there, NOT durable",
        var mount => $"{mount[2]} on {mount[0]} at {mount[1]}",
    };

    public static bool InMemory(string path) => MountOf(path) is { } mount && IsRam(mount[2]);

    public static string? DirectoryOption(string[] arguments)
    {
        var index = Array.IndexOf(arguments, "--dir");
        return index >= 0 && index + 1 < arguments.Length ? arguments[index + 1] : null;
    }

    /// <summary>The /proc/mounts line (split) of the longest mount point that holds the path.</summary>
    private static string[]? MountOf(string path)
    {
        var full = Path.GetFullPath(path);
        return File.ReadLines("/proc/mounts")
            .Select(line => line.Split(' '))
            .Where(fields => fields.Length > 2 && (full == fields[1] || full.StartsWith(fields[1].TrimEnd('/') + "/", StringComparison.Ordinal)))
            .MaxBy(fields => fields[1].Length);
    }

    private static bool IsRam(string fileSystem) => fileSystem is "tmpfs" or "ramfs";
}
