using System.Net;
using SecureIntake.Server.Tests.Witness;
using SecureIntake.Testing;

namespace SecureIntake.Server.Tests.Cluster;

/// <summary>Two web nodes behind one onion service share one hour's intake budget, rather than each admitting all of it.</summary>
public sealed class SharedIntakeBudgetTests : IAsyncLifetime, IDisposable
{
    private readonly TemporaryDirectory _blobs = new("si-cluster-budget-");
    private readonly ServerTestKeys _keys = new();
    private string _database = "";

    public async Task InitializeAsync()
    {
        await _keys.InitializeAsync();
        _database = await (await PostgresCluster.GetSharedAsync()).CreateDatabaseAsync();
        (await SecureIntakeCli.RunAsync(_database, "keys", "add", _keys.Usable)).EnsureSuccess("keys add");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose()
    {
        _keys.Dispose();
        _blobs.Dispose();
    }

    [Fact]
    public async Task Two_web_nodes_together_take_in_no_more_posts_than_the_hours_budget_and_then_show_the_busy_page()
    {
        string[] settings = [$"--Storage:BlobDirectory={_blobs.Path}", "--Intake:HourlyPosts=3"];
        await using var first = await SecureIntakeCli.StartReadyAsync(_database, "web", settings);
        await using var second = await SecureIntakeCli.StartReadyAsync(_database, "web", settings);

        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            using var witness = WitnessForms.NewBrowserlikeClient((i % 2 == 0 ? first : second).Address);
            using var form = WitnessForms.Multipart(await WitnessForms.TokenAsync(witness, "/ru/submit"), $"свидетель {i}");
            using var response = await witness.PostAsync(new Uri("/ru/submit", UriKind.Relative), form);
            answers.Add(response.StatusCode);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero);
                var page = await response.Content.ReadAsStringAsync();
                Assert.Contains("<html lang=\"ru\">", page, StringComparison.Ordinal);
            }
        }

        Assert.Equal(3, answers.Count(a => a == HttpStatusCode.OK));
        Assert.Equal(3, answers.Count(a => a == HttpStatusCode.ServiceUnavailable));
        Assert.Equal(3L, await ScalarAsync("SELECT count(*) FROM submissions"));
        Assert.Equal(3L, await ScalarAsync("SELECT sum(posts)::bigint FROM intake_hours"));
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new Npgsql.NpgsqlConnection(_database);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
