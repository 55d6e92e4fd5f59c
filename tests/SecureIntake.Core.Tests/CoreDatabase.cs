using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using SecureIntake.Core.Storage;
using SecureIntake.Testing;

namespace SecureIntake.Core.Tests;

/// <summary>A fresh, migrated database in the run's throwaway PostgreSQL cluster.</summary>
internal static class CoreDatabase
{
    public static async Task<NpgsqlDataSource> CreateAsync(bool migrate = true)
    {
        var dataSource = NpgsqlDataSource.Create(await (await PostgresCluster.GetSharedAsync()).CreateDatabaseAsync());
        if (migrate)
        {
            await new Migrator(dataSource, NullLogger<Migrator>.Instance).MigrateAsync(CancellationToken.None);
        }

        return dataSource;
    }
}

/// <summary>A clock the test moves.</summary>
internal sealed class ManualClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}
