using Npgsql;
using SecureIntake.Testing;

namespace SecureIntake.Server.Tests.CommandLine;

public sealed class SettingsTests
{
    [Fact]
    public async Task Help_lists_every_command()
    {
        var result = await SecureIntakeCli.RunAsync(null, "--help");

        Assert.Equal(0, result.ExitCode);
        foreach (var command in new[] { "all", "web", "worker", "migrate", "keys" })
        {
            Assert.Contains($"  {command} ", result.OutputText, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_missing_connection_string_stops_with_a_message_naming_the_setting()
    {
        var result = await SecureIntakeCli.RunAsync(null, "migrate");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Database:ConnectionString is not set", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_argument_is_refused_rather_than_ignored()
    {
        var result = await SecureIntakeCli.RunAsync("Host=/tmp", "migrate", "--frobnicate");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("unknown argument '--frobnicate'", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_mistyped_setting_is_reported_without_its_value()
    {
        var result = await SecureIntakeCli.RunAsync("Host=/tmp", "migrate", "Codenames:Pepper=not-for-the-terminal");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("unknown argument 'Codenames:Pepper'", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("not-for-the-terminal", result.Error + result.OutputText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_database_is_reported_as_such()
    {
        var result = await SecureIntakeCli.RunAsync("Host=/nonexistent-socket-dir;Database=x;Username=x;Timeout=2", "migrate");

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("cannot use the database", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_setting_on_the_command_line_overrides_the_environment()
    {
        var database = await (await PostgresCluster.GetSharedAsync()).CreateDatabaseAsync();

        var result = await SecureIntakeCli.RunAsync("Host=/nonexistent", "migrate", $"--Database:ConnectionString={database}");

        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task Migrate_applies_our_schema_once_and_creates_hangfires_in_its_own_schema()
    {
        var database = await (await PostgresCluster.GetSharedAsync()).CreateDatabaseAsync();

        var first = await SecureIntakeCli.RunAsync(database, "migrate");
        var second = await SecureIntakeCli.RunAsync(database, "migrate");

        Assert.Equal(0, first.ExitCode);
        Assert.Contains("applied migration 0001_desks_and_recipient_keys", first.OutputText, StringComparison.Ordinal);
        Assert.DoesNotContain("applied migration", second.OutputText, StringComparison.Ordinal);
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'hangfire' AND table_name = 'job'", connection);
        Assert.Equal(1L, await command.ExecuteScalarAsync());
    }
}
