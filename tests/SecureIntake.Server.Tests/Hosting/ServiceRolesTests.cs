using Npgsql;
using SecureIntake.Testing;

namespace SecureIntake.Server.Tests.Hosting;

[Collection(ServerTestKeysGroup.Name)]
public sealed class ServiceRolesTests(ServerTestKeys keys)
{
    [Fact]
    public async Task The_service_refuses_to_start_while_a_desk_has_no_usable_key()
    {
        var database = await (await PostgresCluster.GetSharedAsync()).CreateDatabaseAsync();

        var result = await SecureIntakeCli.RunAsync(database, "web", $"--Urls=http://127.0.0.1:{LoopbackPort.Free()}", $"--Desk:Urls=http://127.0.0.1:{LoopbackPort.Free()}");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("refusing to start: desk 'default' has no usable recipient key", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task All_roles_serve_hardened_responses_register_the_key_check_and_stop_cleanly_on_sigterm()
    {
        var database = await (await PostgresCluster.GetSharedAsync()).CreateDatabaseAsync();
        Assert.Equal(0, (await SecureIntakeCli.RunAsync(database, "keys", "add", keys.Usable)).ExitCode);
        await using var service = await SecureIntakeCli.StartReadyAsync(database, "all");
        using var client = new HttpClient { BaseAddress = service.Address };

        using var robots = await client.GetAsync(new Uri("/robots.txt", UriKind.Relative));
        using var missing = await client.GetAsync(new Uri("/no-such-page", UriKind.Relative));
        using var wrongHost = new HttpRequestMessage(HttpMethod.Get, "/healthz") { Headers = { Host = "evil.example" } };
        using var wrongHostResponse = await client.SendAsync(wrongHost);

        Assert.Equal("User-agent: *\nDisallow: /\n", await robots.Content.ReadAsStringAsync());
        foreach (var response in new[] { robots, missing, wrongHostResponse })
        {
            Assert.StartsWith("default-src 'none'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
            Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.Equal("no-store", response.Headers.CacheControl!.ToString());
            Assert.False(response.Headers.Contains("Server"));
        }

        Assert.Equal(System.Net.HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, wrongHostResponse.StatusCode);
        Assert.Contains("recipient-key-check", await RecurringJobIdsAsync(database));

        var (exitCode, output) = await service.StopAsync();
        Assert.True(exitCode == 0, output);
    }

    [Fact]
    public async Task The_worker_role_alone_runs_the_hangfire_server_without_listening()
    {
        var database = await (await PostgresCluster.GetSharedAsync()).CreateDatabaseAsync();
        Assert.Equal(0, (await SecureIntakeCli.RunAsync(database, "keys", "add", keys.Second)).ExitCode);
        await using var service = SecureIntakeCli.Start(database, "worker");

        var servers = 0L;
        for (var attempt = 0; attempt < 150 && servers == 0 && !service.Process.HasExited; attempt++)
        {
            await Task.Delay(200);
            servers = await CountAsync(database, "SELECT count(*) FROM hangfire.server");
        }

        Assert.Equal(1L, servers);
        using var client = new HttpClient();
        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(new Uri(service.Address, "/healthz")));
        var (exitCode, output) = await service.StopAsync();
        Assert.True(exitCode == 0, output);
    }

    private static async Task<string> RecurringJobIdsAsync(string database)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            await using var connection = new NpgsqlConnection(database);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT coalesce(string_agg(value, ','), '') FROM hangfire.set WHERE key = 'recurring-jobs'", connection);
            if (await command.ExecuteScalarAsync() is string { Length: > 0 } ids)
            {
                return ids;
            }

            await Task.Delay(100);
        }

        return "";
    }

    private static async Task<long> CountAsync(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        try
        {
            return (long)(await command.ExecuteScalarAsync())!;
        }
        catch (PostgresException)
        {
            return 0; // the schema is not there yet
        }
    }
}
