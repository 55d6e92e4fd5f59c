using SecureIntake.Testing;

namespace SecureIntake.Server.Tests.CommandLine;

[Collection(ServerTestKeysGroup.Name)]
public sealed class KeysCommandTests(ServerTestKeys keys)
{
    [Fact]
    public async Task Check_of_a_usable_key_names_the_subkey_it_will_encrypt_to_and_exits_0()
    {
        var result = await SecureIntakeCli.RunAsync(null, "keys", "check", keys.Usable);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains($"OK {keys.UsableFingerprint}", result.OutputText, StringComparison.Ordinal);
        Assert.Contains("user ID:     Desk Editor <editor@newsroom.invalid>", result.OutputText, StringComparison.Ordinal);
        Assert.Contains($"encrypt to:  {keys.UsableSubkeyFingerprint} (ECDH Curve25519)", result.OutputText, StringComparison.Ordinal);
        Assert.Contains("expires:     never", result.OutputText, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("expired", "the key expired on")]
    [InlineData("sign-only", "for signing only")]
    [InlineData("revoked", "the key is revoked")]
    public async Task Check_of_an_unusable_key_says_why_and_exits_1(string which, string reason)
    {
        var file = which switch { "expired" => keys.Expired, "sign-only" => keys.SignOnly, _ => keys.Revoked };

        var result = await SecureIntakeCli.RunAsync(null, "keys", "check", file);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("REFUSED ", result.OutputText, StringComparison.Ordinal);
        Assert.Contains(reason, result.OutputText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_refuses_a_private_key_file()
    {
        var result = await SecureIntakeCli.RunAsync(null, "keys", "check", keys.SecretKey);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("PRIVATE key", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_of_a_missing_file_says_so()
    {
        var result = await SecureIntakeCli.RunAsync(null, "keys", "check", "/nonexistent/key.asc");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("does not exist", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Added_keys_are_listed_per_desk_and_removed_again()
    {
        var database = await (await PostgresCluster.GetSharedAsync()).CreateDatabaseAsync();

        var add = await SecureIntakeCli.RunAsync(database, "keys", "add", keys.Usable);
        var addAgain = await SecureIntakeCli.RunAsync(database, "keys", "add", keys.Usable);
        var addSecond = await SecureIntakeCli.RunAsync(database, "keys", "add", keys.Second);
        var list = await SecureIntakeCli.RunAsync(database, "keys", "list");
        var remove = await SecureIntakeCli.RunAsync(database, "keys", "remove", keys.UsableFingerprint.ToLowerInvariant());
        var listAfter = await SecureIntakeCli.RunAsync(database, "keys", "list");

        Assert.Equal(0, add.ExitCode);
        Assert.Contains($"added {keys.UsableFingerprint} for desk 'default'", add.OutputText, StringComparison.Ordinal);
        Assert.Contains($"updated {keys.UsableFingerprint}", addAgain.OutputText, StringComparison.Ordinal);
        Assert.Contains($"added {keys.SecondFingerprint} for desk 'default'", addSecond.OutputText, StringComparison.Ordinal);
        Assert.Contains("desk 'default':", list.OutputText, StringComparison.Ordinal);
        Assert.Contains($"  OK {keys.UsableFingerprint}", list.OutputText, StringComparison.Ordinal);
        Assert.Equal(0, remove.ExitCode);
        Assert.Contains($"removed {keys.UsableFingerprint} from desk 'default'", remove.OutputText, StringComparison.Ordinal);
        Assert.DoesNotContain(keys.UsableFingerprint, listAfter.OutputText, StringComparison.Ordinal);
        Assert.Contains($"  OK {keys.SecondFingerprint}", listAfter.OutputText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Removing_a_desks_last_usable_key_is_refused_with_the_reason_and_the_key_stays()
    {
        var database = await (await PostgresCluster.GetSharedAsync()).CreateDatabaseAsync();
        await SecureIntakeCli.RunAsync(database, "keys", "add", keys.Usable);

        var remove = await SecureIntakeCli.RunAsync(database, "keys", "remove", keys.UsableFingerprint);
        var list = await SecureIntakeCli.RunAsync(database, "keys", "list");

        Assert.Equal(1, remove.ExitCode);
        Assert.Contains($"{keys.UsableFingerprint} is the last usable recipient key of desk 'default'", remove.Error, StringComparison.Ordinal);
        Assert.Contains("the service would refuse to start", remove.Error, StringComparison.Ordinal);
        Assert.Contains("nothing was removed", remove.Error, StringComparison.Ordinal);
        Assert.Contains($"  OK {keys.UsableFingerprint}", list.OutputText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_revoked_last_key_can_be_removed()
    {
        var database = await (await PostgresCluster.GetSharedAsync()).CreateDatabaseAsync();
        var (fingerprint, before, after) = keys.LaterRevoked;
        await SecureIntakeCli.RunAsync(database, "keys", "add", before);
        await SecureIntakeCli.RunAsync(database, "keys", "add", after);

        var remove = await SecureIntakeCli.RunAsync(database, "keys", "remove", fingerprint);
        var list = await SecureIntakeCli.RunAsync(database, "keys", "list");

        Assert.Equal(0, remove.ExitCode);
        Assert.Contains("desk 'default' has no usable recipient key", remove.Error, StringComparison.Ordinal);
        Assert.Contains("no recipient keys yet", list.OutputText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_revoked_copy_of_a_stored_key_revokes_it_and_an_older_copy_cannot_undo_that()
    {
        var database = await (await PostgresCluster.GetSharedAsync()).CreateDatabaseAsync();
        var (fingerprint, before, after) = keys.LaterRevoked;

        var add = await SecureIntakeCli.RunAsync(database, "keys", "add", before);
        var revoke = await SecureIntakeCli.RunAsync(database, "keys", "add", after);
        var addOldAgain = await SecureIntakeCli.RunAsync(database, "keys", "add", before);
        var list = await SecureIntakeCli.RunAsync(database, "keys", "list");

        Assert.Contains($"added {fingerprint}", add.OutputText, StringComparison.Ordinal);
        Assert.Equal(0, revoke.ExitCode);
        Assert.Contains($"updated {fingerprint} for desk 'default': it is now refused (the key is revoked)", revoke.OutputText, StringComparison.Ordinal);
        Assert.Contains("desk 'default' has no usable recipient key", revoke.Error, StringComparison.Ordinal);
        Assert.Contains("it is now refused (the key is revoked)", addOldAgain.OutputText, StringComparison.Ordinal);
        Assert.Contains($"REFUSED {fingerprint}: the key is revoked", list.OutputText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_file_with_one_unusable_key_adds_nothing()
    {
        var database = await (await PostgresCluster.GetSharedAsync()).CreateDatabaseAsync();

        var add = await SecureIntakeCli.RunAsync(database, "keys", "add", keys.UsableAndExpired);
        var list = await SecureIntakeCli.RunAsync(database, "keys", "list");

        Assert.Equal(1, add.ExitCode);
        Assert.Contains("nothing was added", add.Error, StringComparison.Ordinal);
        Assert.Contains("no recipient keys yet", list.OutputText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Adding_to_a_desk_that_does_not_exist_is_refused()
    {
        var database = await (await PostgresCluster.GetSharedAsync()).CreateDatabaseAsync();

        var add = await SecureIntakeCli.RunAsync(database, "keys", "add", keys.Usable, "--desk", "politics");

        Assert.Equal(1, add.ExitCode);
        Assert.Contains("there is no desk named 'politics'", add.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Removing_an_unknown_or_malformed_fingerprint_is_an_error()
    {
        var database = await (await PostgresCluster.GetSharedAsync()).CreateDatabaseAsync();

        var unknown = await SecureIntakeCli.RunAsync(database, "keys", "remove", new string('A', 40));
        var malformed = await SecureIntakeCli.RunAsync(database, "keys", "remove", "ABCD");

        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("no recipient key", unknown.Error, StringComparison.Ordinal);
        Assert.Equal(2, malformed.ExitCode);
        Assert.Contains("is not a full fingerprint", malformed.Error, StringComparison.Ordinal);
    }
}
