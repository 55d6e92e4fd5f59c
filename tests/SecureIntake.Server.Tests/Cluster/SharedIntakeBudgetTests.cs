using System.Net;
using SecureIntake.Server.Tests.Witness;
using SecureIntake.Testing;

namespace SecureIntake.Server.Tests.Cluster;

/// <summary>Two web nodes behind one onion service share one hour's intake budget, rather than each admitting all of it.</summary>
public sealed class SharedIntakeBudgetTests() : ClusterTest("si-cluster-budget-")
{
    [Fact]
    public async Task Two_web_nodes_together_take_in_no_more_posts_than_the_hours_budget_and_then_show_the_busy_page()
    {
        string[] settings = [$"--Storage:BlobDirectory={Blobs.Path}", "--Intake:HourlyPosts=3"];
        await using var first = await SecureIntakeCli.StartReadyAsync(Database, "web", settings);
        await using var second = await SecureIntakeCli.StartReadyAsync(Database, "web", settings);

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
        await using var connection = new Npgsql.NpgsqlConnection(Database);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
