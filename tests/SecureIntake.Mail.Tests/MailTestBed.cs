using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using SecureIntake.Core;
using SecureIntake.Core.Recipients;
using SecureIntake.Core.Storage;
using SecureIntake.Crypto.Keys;
using SecureIntake.Testing;

namespace SecureIntake.Mail.Tests;

/// <summary>
/// The gateway's world in one process: a fresh migrated database with Hangfire's tables, a desk whose
/// recipient is a gpg-made key (gpg decrypts what arrives), a blob directory, and services built from
/// settings the way the host builds them.
/// </summary>
public sealed class MailTestBed : IAsyncDisposable
{
    private readonly TemporaryDirectory _blobs = new("si-mail-blobs-");

    public GnuPgHome Gpg { get; } = new();

    public string EditorFingerprint { get; private set; } = "";

    public string Database { get; private set; } = "";

    public string BlobDirectory => _blobs.Path;

    /// <summary>The install's pepper for services built here, unless their settings name another.</summary>
    public string Pepper { get; } = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    public static async Task<MailTestBed> CreateAsync()
    {
        var bed = new MailTestBed();
        bed.Database = await (await PostgresCluster.GetSharedAsync()).CreateDatabaseAsync();
        await using (var dataSource = NpgsqlDataSource.Create(bed.Database))
        {
            await new Migrator(dataSource, NullLogger<Migrator>.Instance).MigrateAsync(CancellationToken.None);
            var hangfire = new PostgreSqlStorageOptions { SchemaName = "hangfire", PrepareSchemaIfNecessary = true };
            _ = new PostgreSqlStorage(new NpgsqlConnectionFactory(bed.Database, hangfire), hangfire);
            bed.EditorFingerprint = await bed.Gpg.GenerateAsync("Editor <editor@newsroom.invalid>", "ed25519", "cert,sign", "never");
            await bed.Gpg.AddSubkeyAsync(bed.EditorFingerprint, "cv25519", "encr", "never");
            var key = RecipientKeyReader.Read(await bed.Gpg.ExportPublicAsync(bed.EditorFingerprint), DateTimeOffset.UtcNow).Single().Key!;
            await new RecipientStore(dataSource, TimeProvider.System).AddAsync(RecipientStore.DefaultDesk, key, CancellationToken.None);
        }

        return bed;
    }

    /// <summary>Services configured with <paramref name="settings"/> (Mail:Imap:Host and so on), as `secureintake` would be.</summary>
    public ServiceProvider Services(IDictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>(settings)
        {
            ["Database:ConnectionString"] = Database,
            ["Storage:BlobDirectory"] = BlobDirectory,
            ["Storage:MinimumFreeBytes"] = "0",
            ["Editors:PasswordMemoryKiB"] = "8192",
            ["Editors:PasswordIterations"] = "1",
        }).Build();
        if (configuration["Codenames:Pepper"] is null)
        {
            configuration["Codenames:Pepper"] = Pepper;
        }

        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSecureIntakeCore(configuration);
        services.AddSecureIntakeMail(configuration);
        return services.BuildServiceProvider();
    }

    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(Database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    public async Task<List<T>> ColumnAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(Database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<T>();
        while (await reader.ReadAsync())
        {
            values.Add(reader.GetFieldValue<T>(0));
        }

        return values;
    }

    /// <summary>Every blob gpg decrypts, as the editors would read them.</summary>
    public async Task<List<byte[]>> DecryptAllAsync()
    {
        var plaintexts = new List<byte[]>();
        foreach (var blob in Directory.GetFiles(BlobDirectory))
        {
            plaintexts.Add((await Gpg.DecryptAsync(blob)).EnsureSuccess("gpg --decrypt").Output);
        }

        return plaintexts;
    }

    public ValueTask DisposeAsync()
    {
        Gpg.Dispose();
        _blobs.Dispose();
        return ValueTask.CompletedTask;
    }
}
