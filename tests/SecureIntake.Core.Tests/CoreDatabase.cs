using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using SecureIntake.Core.Blobs;
using SecureIntake.Core.Recipients;
using SecureIntake.Core.Storage;
using SecureIntake.Crypto.Keys;
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

/// <summary>What intake needs in a test: Hangfire's tables, and a default desk whose recipient is a key gpg just made.</summary>
internal static class IntakeWorld
{
    public static async Task<RecipientKey> PrepareAsync(NpgsqlDataSource dataSource, GnuPgHome gpg, TimeProvider clock)
    {
        var hangfire = new PostgreSqlStorageOptions { SchemaName = "hangfire", PrepareSchemaIfNecessary = true };
        _ = new PostgreSqlStorage(new NpgsqlConnectionFactory(dataSource.ConnectionString, hangfire), hangfire);
        var fingerprint = await gpg.GenerateAsync("<editor@newsroom.invalid>", "ed25519", "cert,sign", "never");
        await gpg.AddSubkeyAsync(fingerprint, "cv25519", "encr", "never");
        var editor = RecipientKeyReader.Read(await gpg.ExportPublicAsync(fingerprint), clock.GetUtcNow()).Single().Key!;
        await new RecipientStore(dataSource, clock).AddAsync(RecipientStore.DefaultDesk, editor, CancellationToken.None);
        return editor;
    }

    public static BlobStore Blobs(TemporaryDirectory directory) =>
        new(Options.Create(new BlobStoreOptions { BlobDirectory = directory.Path, MinimumFreeBytes = 0 }));
}

/// <summary>A clock the test moves.</summary>
internal sealed class ManualClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}
