using System.Net;
using Npgsql;
using SecureIntake.Testing;

namespace SecureIntake.Server.Tests.Witness;

/// <summary>One `secureintake web` with the given settings, its own database and blob directory, for witness tests.</summary>
public abstract class WitnessTestService(string blobPrefix, params string[] settings) : IAsyncLifetime, IDisposable
{
    private readonly TemporaryDirectory _blobs = new(blobPrefix);
    private WitnessServerProcess? _service;

    public string BlobDirectory => _blobs.Path;

    public string Database { get; private set; } = "";

    public Uri Address => _service!.Address;

    public ServerTestKeys Keys { get; } = new();

    public async Task InitializeAsync()
    {
        await Keys.InitializeAsync();
        Database = await (await PostgresCluster.GetSharedAsync()).CreateDatabaseAsync();
        (await SecureIntakeCli.RunAsync(Database, "keys", "add", Keys.Usable)).EnsureSuccess("keys add");
        _service = await WitnessServerProcess.StartAsync(Database, [$"--Storage:BlobDirectory={_blobs.Path}", .. settings]);
    }

    public async Task DisposeAsync()
    {
        if (_service is not null)
        {
            await _service.DisposeAsync();
        }
    }

    public void Dispose()
    {
        Keys.Dispose();
        _blobs.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>A browser's form cookie and a fresh token from the Russian form.</summary>
    public async Task<(string Cookie, string Token)> FormAsync(string page = "/ru/submit")
    {
        var cookies = new CookieContainer();
        using var client = new HttpClient(new HttpClientHandler { CookieContainer = cookies }) { BaseAddress = Address };
        var token = await WitnessForms.TokenAsync(client, page);
        return ($"si_form={cookies.GetCookies(Address)["si_form"]!.Value}", token);
    }

    public async Task<long> CountAsync(string table)
    {
        await using var connection = new NpgsqlConnection(Database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT count(*) FROM {table}", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Runs a post that must be refused and checks that it left nothing behind; see <see cref="NothingKept"/>.</summary>
    public Task AssertNothingStoredAsync(Func<Task> act, params string[] witnessContent) =>
        NothingKept.AssertAsync(_service!, BlobDirectory, async () =>
            [await CountAsync("submissions"), await CountAsync("submission_items"), await CountAsync("hangfire.job")], act, witnessContent);
}
