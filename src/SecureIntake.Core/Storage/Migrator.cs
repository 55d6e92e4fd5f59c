using System.Reflection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace SecureIntake.Core.Storage;

/// <summary>
/// Applies the versioned SQL migrations embedded in this assembly (Storage/Migrations/NNNN_name.sql), each
/// in its own transaction, under an advisory lock so that a web and a worker process starting together
/// do not race. Hangfire keeps its own tables in the "hangfire" schema and migrates them itself.
/// </summary>
public sealed partial class Migrator(NpgsqlDataSource dataSource, ILogger<Migrator> logger)
{
    // Any constant shared by every SecureIntake process; it only has to differ from other lock users.
    private const long MigrationLockKey = 0x5EC1_A7AE_0001;

    public async Task<IReadOnlyList<string>> MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // A session lock, taken before anything else: even CREATE TABLE IF NOT EXISTS races against itself.
        await ExecuteAsync(connection, null, "SELECT pg_advisory_lock(@key)", cancellationToken, ("key", MigrationLockKey)).ConfigureAwait(false);
        try
        {
            await ExecuteAsync(connection, null,
                "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
                cancellationToken).ConfigureAwait(false);
            var done = new HashSet<int>();
            await using (var select = new NpgsqlCommand("SELECT version FROM schema_migrations", connection))
            await using (var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    done.Add(reader.GetInt32(0));
                }
            }

            var applied = new List<string>();
            foreach (var migration in Migrations().Where(m => !done.Contains(m.Version)))
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(connection, transaction, migration.Sql, cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(connection, transaction, "INSERT INTO schema_migrations (version, name) VALUES (@version, @name)", cancellationToken,
                    ("version", migration.Version), ("name", migration.Name)).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                LogApplied(logger, migration.Version, migration.Name);
                applied.Add(migration.Name);
            }

            return applied;
        }
        finally
        {
            // Pooled connections outlive this call, and a session lock would go with them. On a broken
            // connection the lock went with the session, and the original error is the one to report.
            try
            {
                await ExecuteAsync(connection, null, "SELECT pg_advisory_unlock(@key)", CancellationToken.None, ("key", MigrationLockKey)).ConfigureAwait(false);
            }
            catch (NpgsqlException)
            {
            }
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken,
        params (string Name, object Value)[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    internal static IReadOnlyList<(int Version, string Name, string Sql)> Migrations()
    {
        var assembly = typeof(Migrator).Assembly;
        return assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith("Migrations/", StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Select(n =>
            {
                var name = Path.GetFileNameWithoutExtension(n["Migrations/".Length..]);
                var version = int.Parse(name.AsSpan(0, name.IndexOf('_', StringComparison.Ordinal)), System.Globalization.CultureInfo.InvariantCulture);
                return (version, name, Read(assembly, n));
            })
            .OrderBy(m => m.version)
            .ToList();
    }

    private static string Read(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied database migration {Version} ({Name})")]
    private static partial void LogApplied(ILogger logger, int version, string name);
}
