using Npgsql;
using SecureIntake.Testing;

namespace SecureIntake.Server.Tests.Deploy;

/// <summary>
/// deploy/postgres/setup.sh run (twice, as an admin might) against a cluster of its own, with this test's OS user in
/// the place of the two service users: the service then signs in by peer authentication, with no password, as a role
/// that is no superuser, and brings its schema up to date with that role alone.
/// </summary>
public sealed class PostgresSetupTests : IAsyncLifetime
{
    private PostgresCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await PostgresCluster.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task The_service_signs_in_by_its_os_user_as_a_role_that_is_no_superuser_and_migrates_its_schema()
    {
        await RunSetupAsync();
        var rerun = await RunSetupAsync();
        Assert.Contains("PostgreSQL ready", rerun.OutputText, StringComparison.Ordinal);

        var service = $"Host={_cluster.SocketDirectory};Port=5432;Database=secureintake;Username=secureintake;Pooling=false";
        var migrate = await SecureIntakeCli.RunAsync(service, "migrate");
        Assert.True(migrate.ExitCode == 0, migrate.OutputText + migrate.Error);

        await using var connection = new NpgsqlConnection(service);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication OR rolbypassrls FROM pg_roles WHERE rolname = current_user", connection);
        Assert.Equal(false, await command.ExecuteScalarAsync());
        await using var tables = new NpgsqlCommand("SELECT count(*) FROM schema_migrations", connection);
        Assert.True((long)(await tables.ExecuteScalarAsync())! > 0);

        var rules = (await File.ReadAllLinesAsync(Path.Combine(_cluster.SocketDirectory, "data", "pg_hba.conf")))
            .Where(line => line.Length > 0 && !line.StartsWith('#')).ToList();
        Assert.Equal("local secureintake secureintake peer map=secureintake", rules[0]);
        Assert.Single(rules, rules[0]);
    }

    [Fact]
    public async Task Another_os_user_cannot_sign_in_as_the_service()
    {
        await RunSetupAsync();
        // Let every user reach the socket, so what refuses the stranger is the sign-in rule, not the folder's mode.
        File.SetUnixFileMode(_cluster.SocketDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);

        var stranger = await ExternalTool.RunAsync("runuser", ["-u", "nobody", "--", ExternalTool.Require("psql", "postgresql-client"),
            "-h", _cluster.SocketDirectory, "-U", "secureintake", "-d", "secureintake", "-c", "SELECT 1"]);

        Assert.NotEqual(0, stranger.ExitCode);
        Assert.Contains("Peer authentication failed", stranger.Error, StringComparison.Ordinal);
    }

    private async Task<ToolResult> RunSetupAsync()
    {
        var result = await ExternalTool.RunAsync("bash", [DeployFolder.File("postgres", "setup.sh"),
            "--conf-dir", Path.Combine(_cluster.SocketDirectory, "data"), "--host", _cluster.SocketDirectory, "--os-users", Environment.UserName]);
        Assert.True(result.ExitCode == 0, result.OutputText + result.Error);
        return result;
    }
}
