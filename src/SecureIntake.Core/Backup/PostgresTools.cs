using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;

namespace SecureIntake.Core.Backup;

/// <summary>
/// pg_dump and pg_restore of the server's own major version (an older pg_dump refuses a newer server; a dump
/// restored by an older pg_restore may not load), run with the connection settings in libpq's environment
/// variables: a password never appears among a process's arguments, which every local user can read.
/// </summary>
public sealed partial class PostgresTools
{
    private const string MajorPlaceholder = "{major}";
    private const string DebianDirectory = "/usr/lib/postgresql/{major}/bin";

    private readonly IReadOnlyList<string> _directories;
    private readonly bool _searchesDefault;

    /// <summary>Searches <paramref name="directories"/> in order ("{major}" is the server's major version); none: Debian's folder, then PATH.</summary>
    public PostgresTools(IReadOnlyList<string> directories)
    {
        ArgumentNullException.ThrowIfNull(directories);
        _searchesDefault = directories.Count == 0;
        _directories = _searchesDefault
            ? [DebianDirectory, .. (System.Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)]
            : directories;
    }

    public PostgresTools(PostgresToolOptions options)
        : this((options ?? throw new ArgumentNullException(nameof(options))).ToolDirectories)
    {
    }

    /// <summary>
    /// The tool for PostgreSQL <paramref name="major"/>: the first in the search folders whose version is the server's
    /// (a folder named for the version, such as Debian's /usr/lib/postgresql/N/bin, is taken at its word).
    /// </summary>
    public async Task<string> FindAsync(string tool, int major, CancellationToken cancellationToken)
    {
        var otherVersions = new List<string>();
        foreach (var template in _directories)
        {
            var path = Path.Combine(template.Replace(MajorPlaceholder, major.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal), tool);
            if (!File.Exists(path))
            {
                continue;
            }

            if (template.Contains(MajorPlaceholder, StringComparison.Ordinal) || await MajorVersionOfAsync(path, cancellationToken).ConfigureAwait(false) == major)
            {
                return path;
            }

            otherVersions.Add(path);
        }

        var searched = _searchesDefault
            ? $"looked in {DebianDirectory.Replace(MajorPlaceholder, major.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)} and on PATH"
            : $"looked in {string.Join(", ", _directories)} ({PostgresToolOptions.Section}:ToolDirectories)";
        throw new BackupRefusedException(
            $"{tool} for PostgreSQL {major} (the server's version) is not installed: {searched}" +
            (otherVersions.Count == 0 ? "" : $" (found {string.Join(", ", otherVersions)}, of another version)") +
            $". Install it with `apt-get install postgresql-client-{major}` (Debian's postgresql-client package of the server's version); nothing was changed",
            BackupRefusedException.Unavailable);
    }

    /// <summary>libpq's variables for the connection string's server, user, database and password, so the tools reach what the service reaches.</summary>
    public static Dictionary<string, string> Environment(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PGHOST"] = builder.Host ?? "",
            ["PGPORT"] = builder.Port.ToString(CultureInfo.InvariantCulture),
            ["PGAPPNAME"] = "secureintake-backup",
            ["PGCONNECT_TIMEOUT"] = Math.Max(2, builder.Timeout).ToString(CultureInfo.InvariantCulture),
        };
        if (!string.IsNullOrEmpty(builder.Username))
        {
            environment["PGUSER"] = builder.Username;
        }

        if (!string.IsNullOrEmpty(builder.Database))
        {
            environment["PGDATABASE"] = builder.Database;
        }

        if (!string.IsNullOrEmpty(builder.Password))
        {
            environment["PGPASSWORD"] = builder.Password;
        }

        environment["PGSSLMODE"] = builder.SslMode switch
        {
            SslMode.Disable => "disable",
            SslMode.Allow => "allow",
            SslMode.Require => "require",
            SslMode.VerifyCA => "verify-ca",
            SslMode.VerifyFull => "verify-full",
            _ => "prefer",
        };
        return environment;
    }

    /// <summary>Runs a tool to its end (killing it when cancelled) and returns its exit code and what it printed on stderr.</summary>
    public static async Task<(int ExitCode, string Error)> RunAsync(string path, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment,
        CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(path) { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // Only ours: an admin's own PGSERVICE or PGOPTIONS must not point the tool at another database.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("PG", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start) ?? throw new BackupRefusedException($"could not start {path}", BackupRefusedException.Unavailable);
        process.StandardInput.Close();
        var error = process.StandardError.ReadToEndAsync(CancellationToken.None);
        var output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        _ = await output.ConfigureAwait(false);
        return (process.ExitCode, (await error.ConfigureAwait(false)).Trim());
    }

    private static async Task<int?> MajorVersionOfAsync(string path, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(path, "--version") { RedirectStandardOutput = true, UseShellExecute = false };
        using var process = Process.Start(start);
        if (process is null)
        {
            return null;
        }

        var text = await process.StandardOutput.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        var match = VersionPattern().Match(text);
        return match.Success ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : null;
    }

    [GeneratedRegex(@"\(PostgreSQL\) (\d+)")]
    private static partial Regex VersionPattern();
}
