using System.Globalization;

namespace SecureIntake.Testing;

/// <summary>
/// A throwaway PostgreSQL cluster made from the machine's own binaries: initdb into a temp directory,
/// listening only on a Unix socket in it (no port to collide with), started once per test run and removed
/// when the run ends. Each test that needs a database asks for a fresh one. PostgreSQL refuses to run as
/// root, so under root the server runs as the `postgres` user (or `nobody`).
/// </summary>
public sealed class PostgresCluster : IAsyncDisposable
{
    private static readonly Lazy<Task<PostgresCluster>> Shared = new(StartSharedAsync);

    private readonly string _binDirectory;
    private readonly string? _runAs;
    private readonly TemporaryDirectory _root;
    private int _databases;

    private PostgresCluster(string binDirectory, string? runAs, TemporaryDirectory root)
    {
        _binDirectory = binDirectory;
        _runAs = runAs;
        _root = root;
    }

    public string SocketDirectory => _root.Path;

    public string AdminConnectionString => $"Host={SocketDirectory};Port=5432;Username=postgres;Database=postgres;Pooling=false";

    /// <summary>The cluster shared by the whole test run.</summary>
    public static Task<PostgresCluster> GetSharedAsync() => Shared.Value;

    /// <summary>A new, empty database; returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"test_{Environment.ProcessId}_{Interlocked.Increment(ref _databases)}";
        (await RunAsync("psql", ["-h", SocketDirectory, "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", $"CREATE DATABASE {name}"]))
            .EnsureSuccess("CREATE DATABASE");
        return $"Host={SocketDirectory};Port=5432;Username=postgres;Database={name}";
    }

    /// <summary>
    /// A cluster of its own. Tests leave <paramref name="durable"/> off: they need no crash safety from it. Benchmarks
    /// turn it on, so that commits wait for fsync as a deployment's would, and put it in <paramref name="parent"/>,
    /// a directory on disk (the temp directory may be a tmpfs). Under root the parent must be reachable by the
    /// PostgreSQL service user.
    /// </summary>
    public static async Task<PostgresCluster> StartAsync(bool durable = false, string? parent = null)
    {
        var binDirectory = FindBinaries();
        var runAs = Environment.UserName == "root" ? ServiceUser() : null;
        var root = new TemporaryDirectory("si-pg-", parent);
        var cluster = new PostgresCluster(binDirectory, runAs, root);
        if (runAs is not null)
        {
            (await ExternalTool.RunAsync("chown", [runAs, root.Path])).EnsureSuccess("chown of the cluster directory");
        }

        var data = Path.Combine(root.Path, "data");
        (await cluster.RunAsync("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-locale", .. durable ? Array.Empty<string>() : ["--no-sync"]]))
            .EnsureSuccess("initdb");
        // Tests need no crash safety from the test cluster itself; durability of our own files is tested on ours.
        var durability = durable ? "-c fsync=on -c synchronous_commit=on -c full_page_writes=on" : "-c fsync=off -c synchronous_commit=off -c full_page_writes=off";
        var options = $"-c listen_addresses='' -k {root.Path} -p 5432 {durability} -c max_connections=200";
        (await cluster.RunAsync("pg_ctl", ["-D", data, "-o", options, "-l", Path.Combine(root.Path, "server.log"), "-w", "-t", "60", "start"]))
            .EnsureSuccess("pg_ctl start");
        return cluster;
    }

    public async ValueTask DisposeAsync()
    {
        await RunAsync("pg_ctl", ["-D", Path.Combine(_root.Path, "data"), "-m", "immediate", "-w", "stop"]);
        _root.Dispose();
    }

    private static async Task<PostgresCluster> StartSharedAsync()
    {
        var cluster = await StartAsync();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => cluster.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return cluster;
    }

    private Task<ToolResult> RunAsync(string tool, IEnumerable<string> arguments)
    {
        var path = tool == "psql" ? ExternalTool.Require("psql", "postgresql-client") : Path.Combine(_binDirectory, tool);
        return _runAs is null
            ? ExternalTool.RunAsync(path, arguments)
            : ExternalTool.RunAsync("runuser", ["-u", _runAs, "--", path, .. arguments]);
    }

    /// <summary>Debian keeps the server binaries in /usr/lib/postgresql/VERSION/bin; the newest wins.</summary>
    private static string FindBinaries()
    {
        var versions = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Where(d => File.Exists(Path.Combine(d, "bin", "initdb")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0)
            : Enumerable.Empty<string>();
        var bin = versions.Select(d => Path.Combine(d, "bin")).FirstOrDefault()
            ?? (ExternalTool.Find("initdb") is { } initdb ? Path.GetDirectoryName(initdb) : null);
        return bin ?? throw new InvalidOperationException(
            "PostgreSQL server binaries (initdb, pg_ctl) are not installed; tests start a real throwaway cluster. " +
            "Install them with `apt-get install postgresql` (or run `bash .ci/run`).");
    }

    private static string ServiceUser() =>
        File.ReadLines("/etc/passwd").Any(l => l.StartsWith("postgres:", StringComparison.Ordinal)) ? "postgres" : "nobody";
}
