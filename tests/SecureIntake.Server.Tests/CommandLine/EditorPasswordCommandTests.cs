using System.Text.RegularExpressions;
using Npgsql;
using SecureIntake.Core.Audit;
using SecureIntake.Core.Editors;
using SecureIntake.Testing;

namespace SecureIntake.Server.Tests.CommandLine;

public sealed partial class EditorPasswordCommandTests
{
    private const string AddedWith = "kettle-orbit-mangrove-17";
    private const string SetByAdmin = "harbour-violet-granite-48";

    [Fact]
    public async Task An_admin_set_password_replaces_the_old_one_and_must_be_changed_at_the_next_sign_in()
    {
        var database = await (await PostgresCluster.GetSharedAsync()).CreateDatabaseAsync();
        var added = (await SecureIntakeCli.RunWithInputAsync(database, AddedWith + "\n", "editors", "add", "dana")).EnsureSuccess("editors add");
        var secret = Totp.FromBase32(SecretPattern().Match(added.OutputText).Groups[1].Value);

        var weak = await SecureIntakeCli.RunWithInputAsync(database, "password1234\n", "editors", "set-password", "dana");
        var unknown = await SecureIntakeCli.RunWithInputAsync(database, SetByAdmin + "\n", "editors", "set-password", "nobody");
        var set = await SecureIntakeCli.RunWithInputAsync(database, SetByAdmin + "\n", "editors", "set-password", "Dana");

        Assert.Equal(1, weak.ExitCode);
        Assert.Contains("the password is refused: one of the most common passwords", weak.Error, StringComparison.Ordinal);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("there is no editor named 'nobody'", unknown.Error, StringComparison.Ordinal);
        Assert.Equal(0, set.ExitCode);
        Assert.Contains("set a new password for dana; their sessions ended, and they must choose their own at their next sign-in", set.OutputText, StringComparison.Ordinal);
        Assert.DoesNotContain(SetByAdmin, set.OutputText + set.Error, StringComparison.Ordinal);

        await using var dataSource = NpgsqlDataSource.Create(database);
        using var editors = new EditorStore(dataSource, new PasswordHasher(), new AuditLog(dataSource, TimeProvider.System), TimeProvider.System);
        var code = Totp.Code(secret, Totp.StepAt(DateTimeOffset.UtcNow));
        Assert.IsType<SignInResult.Refused>(await editors.SignInAsync("dana", AddedWith, code, CancellationToken.None));
        var signedIn = Assert.IsType<SignInResult.SignedIn>(await editors.SignInAsync("dana", SetByAdmin, code, CancellationToken.None));
        Assert.True(signedIn.MustChangePassword);
    }

    [GeneratedRegex("TOTP secret[^:]*: ([A-Z2-7]+)")]
    private static partial Regex SecretPattern();
}
