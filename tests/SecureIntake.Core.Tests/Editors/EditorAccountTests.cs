using Npgsql;
using SecureIntake.Core.Audit;
using SecureIntake.Core.Editors;

namespace SecureIntake.Core.Tests.Editors;

/// <summary>What an editor does with their own credentials, and what an admin may not keep.</summary>
public sealed class EditorAccountTests : IAsyncLifetime, IDisposable
{
    private const string AdminsPassword = "kettle-orbit-mangrove-17";
    private const string OwnPassword = "lantern-quarry-basalt-92";
    private static readonly DateTimeOffset Start = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
    private readonly ManualClock _clock = new(Start);
    private NpgsqlDataSource _dataSource = null!;
    private AuditLog _audit = null!;
    private EditorStore _editors = null!;
    private DeskSessions _sessions = null!;

    public async Task InitializeAsync()
    {
        _dataSource = await CoreDatabase.CreateAsync();
        _audit = new AuditLog(_dataSource, _clock);
        _editors = new EditorStore(_dataSource, new PasswordHasher(8192, 1), _audit, _clock);
        _sessions = new DeskSessions(_dataSource, _clock);
    }

    public async Task DisposeAsync() => await _dataSource.DisposeAsync();

    public void Dispose() => _editors.Dispose();

    [Fact]
    public async Task An_editor_changes_their_own_password_and_every_session_of_theirs_ends()
    {
        var admins = await _editors.AddAsync("dana", EditorRole.Editor, AdminsPassword, CancellationToken.None);
        var first = await SignInAsync("dana", AdminsPassword, admins.TotpSecret);
        Assert.True(first.MustChangePassword);
        var (browser, _) = await _sessions.StartAsync(first.Editor, DeskSessionKind.Browser, CancellationToken.None);
        var (tool, _) = await _sessions.StartAsync(first.Editor, DeskSessionKind.Tool, CancellationToken.None);

        await _editors.ChangePasswordAsync(first.Editor, AdminsPassword, OwnPassword, CancellationToken.None);

        Assert.Null(await _sessions.FindAsync(browser, DeskSessionKind.Browser, CancellationToken.None));
        Assert.Null(await _sessions.FindAsync(tool, DeskSessionKind.Tool, CancellationToken.None));
        Assert.IsType<SignInResult.Refused>(await TrySignInAsync("dana", AdminsPassword, admins.TotpSecret));
        var again = await SignInAsync("dana", OwnPassword, admins.TotpSecret);
        Assert.False(again.MustChangePassword);
        var audit = await _audit.ListAsync(1, CancellationToken.None);
        Assert.Contains(audit, e => e.Action == "password changed" && e.EditorName == "dana");
        Assert.DoesNotContain(audit, e => e.Detail.Contains(OwnPassword, StringComparison.Ordinal) || e.Detail.Contains(AdminsPassword, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_wrong_current_password_a_weak_new_one_or_the_same_one_changes_nothing()
    {
        var admins = await _editors.AddAsync("finn", EditorRole.Editor, AdminsPassword, CancellationToken.None);
        var editor = (await SignInAsync("finn", AdminsPassword, admins.TotpSecret)).Editor;

        var wrong = await Assert.ThrowsAsync<EditorRefusedException>(() =>
            _editors.ChangePasswordAsync(editor, "not-the-current-one", OwnPassword, CancellationToken.None));
        var weak = await Assert.ThrowsAsync<EditorRefusedException>(() =>
            _editors.ChangePasswordAsync(editor, AdminsPassword, "password1234", CancellationToken.None));
        var same = await Assert.ThrowsAsync<EditorRefusedException>(() =>
            _editors.ChangePasswordAsync(editor, AdminsPassword, AdminsPassword, CancellationToken.None));

        Assert.Equal("the current password is wrong", wrong.Message);
        Assert.Equal("the new password is refused: one of the most common passwords", weak.Message);
        Assert.Equal("the new password must differ from the current one", same.Message);
        Assert.True((await SignInAsync("finn", AdminsPassword, admins.TotpSecret)).MustChangePassword);
        Assert.IsType<SignInResult.Refused>(await TrySignInAsync("finn", OwnPassword, admins.TotpSecret));
    }

    [Fact]
    public async Task Wrong_current_passwords_count_as_failed_sign_ins_and_lock_the_account()
    {
        var admins = await _editors.AddAsync("gail", EditorRole.Editor, AdminsPassword, CancellationToken.None);
        var editor = (await SignInAsync("gail", AdminsPassword, admins.TotpSecret)).Editor;

        for (var i = 0; i < EditorStore.FailuresBeforeLockout; i++)
        {
            await Assert.ThrowsAsync<EditorRefusedException>(() =>
                _editors.ChangePasswordAsync(editor, $"guess number {i} of many", OwnPassword, CancellationToken.None));
        }

        var locked = await Assert.ThrowsAsync<EditorRefusedException>(() =>
            _editors.ChangePasswordAsync(editor, AdminsPassword, OwnPassword, CancellationToken.None));
        Assert.StartsWith("too many failed attempts", locked.Message, StringComparison.Ordinal);
        Assert.IsType<SignInResult.LockedOut>(await TrySignInAsync("gail", AdminsPassword, admins.TotpSecret));
    }

    [Fact]
    public async Task The_mark_of_an_admin_set_password_stays_until_the_editor_chooses_their_own_and_returns_when_an_admin_sets_one()
    {
        var admins = await _editors.AddAsync("hana", EditorRole.Editor, AdminsPassword, CancellationToken.None);

        var first = await SignInAsync("hana", AdminsPassword, admins.TotpSecret);
        var second = await SignInAsync("hana", AdminsPassword, admins.TotpSecret);
        Assert.True(first.MustChangePassword && first.MustEnrolTwoFactor && first.MustRenewCredentials);
        Assert.True(second.MustChangePassword && second.MustEnrolTwoFactor);

        var own = await _editors.BeginTwoFactorEnrolmentAsync(second.Editor, AdminsPassword, CancellationToken.None);
        await _editors.ConfirmTwoFactorEnrolmentAsync(second.Editor, CodeNow(own.TotpSecret), CancellationToken.None);
        var enrolled = await SignInAsync("hana", AdminsPassword, own.TotpSecret);
        Assert.True(enrolled.MustChangePassword);
        Assert.False(enrolled.MustEnrolTwoFactor);

        await _editors.ChangePasswordAsync(enrolled.Editor, AdminsPassword, OwnPassword, CancellationToken.None);
        Assert.False((await SignInAsync("hana", OwnPassword, own.TotpSecret)).MustRenewCredentials);

        var (session, _) = await _sessions.StartAsync(enrolled.Editor, DeskSessionKind.Browser, CancellationToken.None);
        await _editors.SetPasswordByAdminAsync("Hana", "another-admins-choice-55", CancellationToken.None);

        Assert.Null(await _sessions.FindAsync(session, DeskSessionKind.Browser, CancellationToken.None));
        Assert.IsType<SignInResult.Refused>(await TrySignInAsync("hana", OwnPassword, own.TotpSecret));
        var reset = await SignInAsync("hana", "another-admins-choice-55", own.TotpSecret);
        Assert.True(reset.MustChangePassword);
        Assert.False(reset.MustEnrolTwoFactor);
        Assert.Contains(await _audit.ListAsync(1, CancellationToken.None), e => e.Action == "editor password set by admin" && e.Detail.StartsWith("hana", StringComparison.Ordinal));
        await Assert.ThrowsAsync<EditorRefusedException>(() => _editors.SetPasswordByAdminAsync("hana", "short", CancellationToken.None));
        await Assert.ThrowsAsync<EditorRefusedException>(() => _editors.SetPasswordByAdminAsync("nobody", OwnPassword, CancellationToken.None));
    }

    [Fact]
    public async Task A_new_authenticator_replaces_the_old_one_only_once_a_code_from_it_is_confirmed()
    {
        var admins = await _editors.AddAsync("ivan", EditorRole.Editor, AdminsPassword, CancellationToken.None);
        var editor = (await SignInAsync("ivan", AdminsPassword, admins.TotpSecret)).Editor;
        await Assert.ThrowsAsync<EditorRefusedException>(() => _editors.BeginTwoFactorEnrolmentAsync(editor, "not-the-current-one", CancellationToken.None));

        var own = await _editors.BeginTwoFactorEnrolmentAsync(editor, AdminsPassword, CancellationToken.None);
        Assert.NotEqual(admins.TotpSecret, own.TotpSecret);
        Assert.True((await SignInAsync("ivan", AdminsPassword, admins.TotpSecret)).MustEnrolTwoFactor);

        var wrong = await Assert.ThrowsAsync<EditorRefusedException>(() =>
            _editors.ConfirmTwoFactorEnrolmentAsync(editor, CodeNow(admins.TotpSecret), CancellationToken.None));
        Assert.Equal("the code does not match the new authenticator; the old one still works", wrong.Message);
        Assert.IsType<SignInResult.SignedIn>(await TrySignInAsync("ivan", AdminsPassword, admins.TotpSecret));
        Assert.IsType<SignInResult.Refused>(await TrySignInAsync("ivan", AdminsPassword, own.TotpSecret));

        _clock.Now += TimeSpan.FromSeconds(30);
        var confirmingCode = Totp.Code(own.TotpSecret, Totp.StepAt(_clock.Now));
        await _editors.ConfirmTwoFactorEnrolmentAsync(editor, confirmingCode, CancellationToken.None);

        // The code that confirmed cannot also sign in, and the secret the admin was shown no longer works.
        Assert.IsType<SignInResult.Refused>(await _editors.SignInAsync("ivan", AdminsPassword, confirmingCode, CancellationToken.None));
        Assert.IsType<SignInResult.Refused>(await TrySignInAsync("ivan", AdminsPassword, admins.TotpSecret));
        Assert.False((await SignInAsync("ivan", AdminsPassword, own.TotpSecret)).MustEnrolTwoFactor);
        await Assert.ThrowsAsync<EditorRefusedException>(() => _editors.ConfirmTwoFactorEnrolmentAsync(editor, CodeNow(own.TotpSecret), CancellationToken.None));
        var audit = await _audit.ListAsync(1, CancellationToken.None);
        Assert.Contains(audit, e => e.Action == "second factor enrolment begun" && e.EditorName == "ivan");
        Assert.Contains(audit, e => e.Action == "second factor enrolment refused" && e.Detail == "wrong code from the new authenticator");
        Assert.Contains(audit, e => e.Action == "second factor re-enrolled" && e.EditorName == "ivan");
    }

    [Fact]
    public async Task An_admins_second_factor_reset_asks_the_editor_to_enrol_their_own_again()
    {
        var admins = await _editors.AddAsync("jade", EditorRole.Editor, AdminsPassword, CancellationToken.None);
        var editor = (await SignInAsync("jade", AdminsPassword, admins.TotpSecret)).Editor;
        var own = await _editors.BeginTwoFactorEnrolmentAsync(editor, AdminsPassword, CancellationToken.None);
        await _editors.ConfirmTwoFactorEnrolmentAsync(editor, CodeNow(own.TotpSecret), CancellationToken.None);

        var reset = await _editors.ResetTwoFactorAsync("jade", CancellationToken.None);

        Assert.True((await SignInAsync("jade", AdminsPassword, reset.TotpSecret)).MustEnrolTwoFactor);
    }

    [Fact]
    public async Task Raising_the_password_cost_upgrades_the_stored_hash_at_the_next_sign_in()
    {
        using var cheap = new EditorStore(_dataSource, new PasswordHasher(1024, 1), _audit, _clock);
        var admins = await cheap.AddAsync("kim", EditorRole.Editor, AdminsPassword, CancellationToken.None);
        var before = await StoredHashAsync("kim");
        using var raised = new EditorStore(_dataSource, new PasswordHasher(2048, 2), _audit, _clock);

        Assert.IsType<SignInResult.Refused>(await raised.SignInAsync("kim", "not-the-password-at-all", CodeNow(admins.TotpSecret), CancellationToken.None));
        Assert.Equal(before, await StoredHashAsync("kim"));
        Assert.IsType<SignInResult.SignedIn>(await raised.SignInAsync("kim", AdminsPassword, CodeNow(admins.TotpSecret), CancellationToken.None));

        Assert.StartsWith("$argon2id$v=19$m=1024,t=1,p=1$", before, StringComparison.Ordinal);
        Assert.StartsWith("$argon2id$v=19$m=2048,t=2,p=1$", await StoredHashAsync("kim"), StringComparison.Ordinal);
        _clock.Now += TimeSpan.FromSeconds(30);
        Assert.IsType<SignInResult.SignedIn>(await raised.SignInAsync("kim", AdminsPassword, CodeNow(admins.TotpSecret), CancellationToken.None));
        var audit = await _audit.ListAsync(1, CancellationToken.None);
        Assert.Single(audit, e => e.Action == "password hash upgraded" && e.EditorName == "kim");
        Assert.DoesNotContain(audit, e => e.Detail.Contains(AdminsPassword, StringComparison.Ordinal));
    }

    private async Task<SignInResult.SignedIn> SignInAsync(string name, string password, byte[] secret) =>
        Assert.IsType<SignInResult.SignedIn>(await TrySignInAsync(name, password, secret));

    /// <summary>Signs in at the next TOTP step, so every attempt has a fresh code.</summary>
    private async Task<SignInResult> TrySignInAsync(string name, string password, byte[] secret)
    {
        _clock.Now += TimeSpan.FromSeconds(30);
        return await _editors.SignInAsync(name, password, CodeNow(secret), CancellationToken.None);
    }

    private string CodeNow(byte[] secret) => Totp.Code(secret, Totp.StepAt(_clock.Now));

    private async Task<string> StoredHashAsync(string name)
    {
        await using var command = _dataSource.CreateCommand("SELECT password_hash FROM editors WHERE name = @name");
        command.Parameters.AddWithValue("name", name);
        return (string)(await command.ExecuteScalarAsync())!;
    }
}
