using SecureIntake.Testing;

namespace SecureIntake.Server.Tests.CommandLine;

/// <summary>`secureintake editors add --desk` and `editors desks --join/--leave`: which desks an editor sees.</summary>
[Collection(ServerTestKeysGroup.Name)]
public sealed class EditorsDesksCommandTests(ServerTestKeys keys)
{
    private const string Password = "kettle-orbit-mangrove-17";

    [Fact]
    public async Task An_editor_added_to_two_desks_is_listed_with_both_and_later_joins_one_and_leaves_another()
    {
        var database = await DatabaseWithDesksAsync("investigations", "sport");

        var alice = await SecureIntakeCli.RunWithInputAsync(database, Password + "\n", "editors", "add", "alice", "--desk", "default", "--desk", "investigations");
        (await SecureIntakeCli.RunWithInputAsync(database, Password + "\n", "editors", "add", "bob")).EnsureSuccess("editors add bob");
        (await SecureIntakeCli.RunWithInputAsync(database, Password + "\n", "editors", "add", "zoe", "--admin")).EnsureSuccess("editors add zoe");

        Assert.Equal(0, alice.ExitCode);
        Assert.Contains("member of desks 'default', 'investigations': they see only their submissions", alice.OutputText, StringComparison.Ordinal);
        var list = Lines((await SecureIntakeCli.RunAsync(database, "editors", "list")).EnsureSuccess("editors list").OutputText);
        Assert.EndsWith("active   default, investigations", list["alice"], StringComparison.Ordinal);
        Assert.EndsWith("active   default", list["bob"], StringComparison.Ordinal);
        Assert.EndsWith("active   every desk", list["zoe"], StringComparison.Ordinal);

        var change = await SecureIntakeCli.RunAsync(database, "editors", "desks", "alice", "--join", "sport", "--leave", "default");

        Assert.Equal(0, change.ExitCode);
        Assert.Contains("alice joined desk 'sport'", change.OutputText, StringComparison.Ordinal);
        Assert.Contains("alice left desk 'default'", change.OutputText, StringComparison.Ordinal);
        Assert.Contains("alice is a member of desks 'investigations', 'sport'", change.OutputText, StringComparison.Ordinal);
        list = Lines((await SecureIntakeCli.RunAsync(database, "editors", "list")).EnsureSuccess("editors list").OutputText);
        Assert.EndsWith("active   investigations, sport", list["alice"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_desk_adds_no_editor_and_changes_no_membership()
    {
        var database = await DatabaseWithDesksAsync("investigations");

        var add = await SecureIntakeCli.RunWithInputAsync(database, Password + "\n", "editors", "add", "alice", "--desk", "investigations", "--desk", "sprot");
        (await SecureIntakeCli.RunWithInputAsync(database, Password + "\n", "editors", "add", "bob")).EnsureSuccess("editors add bob");
        var change = await SecureIntakeCli.RunAsync(database, "editors", "desks", "bob", "--join", "investigations", "--leave", "default", "--leave", "sprot");

        Assert.Equal(1, add.ExitCode);
        Assert.Contains("there is no desk named 'sprot'", add.Error, StringComparison.Ordinal);
        Assert.Equal(1, change.ExitCode);
        Assert.Contains("there is no desk named 'sprot'", change.Error, StringComparison.Ordinal);
        var list = Lines((await SecureIntakeCli.RunAsync(database, "editors", "list")).EnsureSuccess("editors list").OutputText);
        Assert.Equal(["bob"], list.Keys);
        Assert.EndsWith("active   default", list["bob"], StringComparison.Ordinal);
    }

    private async Task<string> DatabaseWithDesksAsync(params string[] desks)
    {
        var database = await (await PostgresCluster.GetSharedAsync()).CreateDatabaseAsync();
        (await SecureIntakeCli.RunAsync(database, "keys", "add", keys.Usable)).EnsureSuccess("keys add");
        foreach (var desk in desks)
        {
            (await SecureIntakeCli.RunAsync(database, "desks", "add", desk, "--key", keys.Usable)).EnsureSuccess("desks add");
        }

        return database;
    }

    /// <summary>`editors list` by editor name.</summary>
    private static Dictionary<string, string> Lines(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToDictionary(line => line.Split(' ')[0], line => line.TrimEnd());
}
