using System.Globalization;
using Npgsql;

namespace SecureIntake.Server.Tests.Cluster;

/// <summary>
/// `secureintake web` and `secureintake worker` processes on one database and one blob directory, each of which a
/// test can kill with SIGKILL (no shutdown of any kind) and start again in its place.
/// </summary>
internal sealed class ClusterNodes(string database, string blobDirectory) : IAsyncDisposable
{
    private readonly List<RunningService> _all = [];
    private readonly Lock _lock = new();

    /// <summary>A web node: the witness listener of whichever process currently serves it, or null while it is down.</summary>
    public sealed class WebNode
    {
        public RunningService? Service { get; set; }

        public Uri? Address => Service?.Address;
    }

    public async Task<WebNode> StartWebAsync()
    {
        var node = new WebNode();
        await RestartWebAsync(node);
        return node;
    }

    public async Task RestartWebAsync(WebNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        node.Service = Track(await SecureIntakeCli.StartReadyAsync(database, "web", Settings()));
    }

    /// <summary>Kills a web node's process outright; posts in flight on it break off for their witnesses.</summary>
    public static async Task KillAsync(WebNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var service = node.Service ?? throw new InvalidOperationException("the node is already down");
        node.Service = null;
        await KillAsync(service);
    }

    /// <summary>A worker, returned once its Hangfire server has registered (it listens on nothing).</summary>
    public async Task<RunningService> StartWorkerAsync()
    {
        var worker = Track(SecureIntakeCli.Start(database, "worker", Settings()));
        var marker = $":{worker.Process.Id.ToString(CultureInfo.InvariantCulture)}:";
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (!await ScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM hangfire.server WHERE id LIKE '%' || @Marker || '%')", ("Marker", marker)))
        {
            if (worker.Process.HasExited)
            {
                var (code, output) = await worker.StopAsync();
                throw new InvalidOperationException($"the worker exited with {code}: {output}");
            }

            Assert.True(DateTime.UtcNow < deadline, "the worker's Hangfire server did not register within 90 s");
            await Task.Delay(100);
        }

        return worker;
    }

    /// <summary>
    /// Kills whichever worker is running a job right now (its Hangfire server id holds its process id), so the kill
    /// lands mid-job; if none is caught running one before <paramref name="patience"/> runs out, kills the first.
    /// Returns the worker killed and whether it held a job.
    /// </summary>
    public async Task<(RunningService Killed, bool HeldAJob)> KillAWorkerMidJobAsync(IReadOnlyList<RunningService> workers, TimeSpan patience)
    {
        ArgumentNullException.ThrowIfNull(workers);
        var deadline = DateTime.UtcNow + patience;
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT s.data::text FROM hangfire.job j JOIN hangfire.state s ON s.id = j.stateid WHERE j.statename = 'Processing'
            """, connection);
        while (DateTime.UtcNow < deadline)
        {
            var running = new List<string>();
            await using (var reader = await command.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    running.Add(reader.GetString(0));
                }
            }

            var busy = workers.FirstOrDefault(w => running.Any(data => data.Contains($":{w.Process.Id.ToString(CultureInfo.InvariantCulture)}:", StringComparison.Ordinal)));
            if (busy is not null)
            {
                await KillAsync(busy);
                return (busy, true);
            }
        }

        await KillAsync(workers[0]);
        return (workers[0], false);
    }

    public async Task StopAllAsync()
    {
        List<RunningService> all;
        lock (_lock)
        {
            all = [.. _all];
        }

        foreach (var service in all.Where(s => !s.Process.HasExited))
        {
            var (code, output) = await service.StopAsync();
            Assert.True(code == 0, $"a node did not stop cleanly ({code}): {output}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var service in _all)
        {
            await service.DisposeAsync();
        }
    }

    public async Task<T> ScalarAsync<T>(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return (T)(await command.ExecuteScalarAsync())!;
    }

    private static async Task KillAsync(RunningService service)
    {
        service.Process.Kill(); // SIGKILL on Linux
        await service.Process.WaitForExitAsync();
    }

    private string[] Settings() => [$"--Storage:BlobDirectory={blobDirectory}"];

    private RunningService Track(RunningService service)
    {
        lock (_lock)
        {
            _all.Add(service);
        }

        return service;
    }
}
