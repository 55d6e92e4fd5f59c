using System.Net;
using Npgsql;
using SecureIntake.Testing;

namespace SecureIntake.Server.Tests.Witness;

/// <summary>One `secureintake web` with the given settings, its own database and blob directory, for witness tests.</summary>
public abstract class WitnessTestService(string blobPrefix, params string[] settings) : IAsyncLifetime, IDisposable
{
    private readonly TemporaryDirectory _blobs = new(blobPrefix);
    private RunningService? _service;

    public string BlobDirectory => _blobs.Path;

    public string Database { get; private set; } = "";

    public Uri Address => _service!.Address;

    public ServerTestKeys Keys { get; } = new();

    public async Task InitializeAsync()
    {
        await Keys.InitializeAsync();
        Database = await (await PostgresCluster.GetSharedAsync()).CreateDatabaseAsync();
        (await SecureIntakeCli.RunAsync(Database, "keys", "add", Keys.Usable)).EnsureSuccess("keys add");
        _service = SecureIntakeCli.Start(Database, "web", [$"--Storage:BlobDirectory={_blobs.Path}", .. settings]);
        await _service.WaitUntilReadyAsync();
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

    public async Task AssertNothingStoredAsync(Func<Task> act)
    {
        var blobs = Directory.GetFiles(BlobDirectory).Length;
        var submissions = await CountAsync("submissions");
        var items = await CountAsync("submission_items");
        var jobs = await CountAsync("hangfire.job");

        await act();

        Assert.Equal(blobs, Directory.GetFiles(BlobDirectory).Length);
        Assert.Equal(submissions, await CountAsync("submissions"));
        Assert.Equal(items, await CountAsync("submission_items"));
        Assert.Equal(jobs, await CountAsync("hangfire.job"));
    }
}
