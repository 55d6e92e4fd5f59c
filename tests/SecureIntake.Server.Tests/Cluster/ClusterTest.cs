using SecureIntake.Testing;

namespace SecureIntake.Server.Tests.Cluster;

/// <summary>
/// What every test of several nodes starts from: a fresh database on the shared test cluster with the test recipient
/// key added, a blob directory the nodes share, and the keys to decrypt what they stored.
/// </summary>
public abstract class ClusterTest(string blobDirectoryPrefix) : IAsyncLifetime, IDisposable
{
    protected TemporaryDirectory Blobs { get; } = new(blobDirectoryPrefix);

    protected ServerTestKeys Keys { get; } = new();

    protected string Database { get; private set; } = "";

    public async Task InitializeAsync()
    {
        await Keys.InitializeAsync();
        Database = await (await PostgresCluster.GetSharedAsync()).CreateDatabaseAsync();
        (await SecureIntakeCli.RunAsync(Database, "keys", "add", Keys.Usable)).EnsureSuccess("keys add");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose()
    {
        Keys.Dispose();
        Blobs.Dispose();
        GC.SuppressFinalize(this);
    }
}
