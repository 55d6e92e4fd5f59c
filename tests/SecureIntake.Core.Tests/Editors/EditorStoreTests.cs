using Npgsql;
using SecureIntake.Core.Audit;
using SecureIntake.Core.Editors;

namespace SecureIntake.Core.Tests.Editors;

public sealed class EditorStoreTests : IAsyncLifetime, IDisposable
{
    private const string Password = "kettle-orbit-mangrove-17";
    private static readonly DateTimeOffset Start = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
    private readonly ManualClock _clock = new(Start);
    private NpgsqlDataSource _dataSource = null!;
    private AuditLog _audit = null!;
    private EditorStore _editors = null!;

    public async Task InitializeAsync()
    {
        _dataSource = await CoreDatabase.CreateAsync();
        _audit = new AuditLog(_dataSource, _clock);
        _editors = new EditorStore(_dataSource, new PasswordHasher(8192, 1), _audit, _clock);
    }

    public async Task DisposeAsync() => await _dataSource.DisposeAsync();

    public void Dispose() => _editors.Dispose();

    [Fact]
    public async Task Sign_in_needs_the_password_and_a_fresh_code_and_is_audited_without_the_typed_name_of_unknown_accounts()
    {
        var enrolment = await _editors.AddAsync("Alice", EditorRole.Admin, Password, CancellationToken.None);
        var code = Totp.Code(enrolment.TotpSecret, Totp.StepAt(Start));

        Assert.IsType<SignInResult.Refused>(await _editors.SignInAsync("alice", "wrong password here", code, CancellationToken.None));
        Assert.IsType<SignInResult.Refused>(await _editors.SignInAsync("alice", Password, "000000", CancellationToken.None));
        var signedIn = Assert.IsType<SignInResult.SignedIn>(await _editors.SignInAsync(" ALICE ", Password, code, CancellationToken.None));
        Assert.Equal(EditorRole.Admin, signedIn.Editor.Role);
        Assert.IsType<SignInResult.Refused>(await _editors.SignInAsync("alice", Password, code, CancellationToken.None)); // the same code again
        Assert.IsType<SignInResult.Refused>(await _editors.SignInAsync("my-secret-password-typed-as-name", Password, code, CancellationToken.None));

        var audit = await _audit.ListAsync(1, CancellationToken.None);
        Assert.Contains(audit, e => e.Action == "signed in" && e.EditorName == "alice");
        Assert.Contains(audit, e => e.Action == "sign-in refused" && e.Detail == "wrong password");
        Assert.Contains(audit, e => e.Action == "sign-in refused" && e.Detail == "wrong or reused code");
        Assert.DoesNotContain(audit, e => (e.EditorName + e.Detail).Contains("my-secret-password", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Repeated_failures_lock_the_account_for_a_while_then_let_it_try_again()
    {
        var enrolment = await _editors.AddAsync("bob", EditorRole.Editor, Password, CancellationToken.None);
        for (var i = 0; i < EditorStore.FailuresBeforeLockout; i++)
        {
            Assert.IsType<SignInResult.Refused>(await _editors.SignInAsync("bob", "not the password!", "123456", CancellationToken.None));
        }

        var code = Totp.Code(enrolment.TotpSecret, Totp.StepAt(_clock.Now));
        var locked = Assert.IsType<SignInResult.LockedOut>(await _editors.SignInAsync("bob", Password, code, CancellationToken.None));
        Assert.Equal(Start.AddMinutes(1), locked.Until);

        _clock.Now = Start.AddMinutes(2);
        var fresh = Totp.Code(enrolment.TotpSecret, Totp.StepAt(_clock.Now));
        Assert.IsType<SignInResult.SignedIn>(await _editors.SignInAsync("bob", Password, fresh, CancellationToken.None));
    }

    [Fact]
    public async Task Parallel_wrong_guesses_are_checked_at_most_five_times_and_the_rest_are_refused_unchecked()
    {
        var enrolment = await _editors.AddAsync("erin", EditorRole.Editor, Password, CancellationToken.None);

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(guess =>
            Task.Run(() => _editors.SignInAsync("erin", $"guess number {guess} here", "123456", CancellationToken.None))));

        // Refused means the password was checked; locked out means it was not looked at.
        Assert.Equal(EditorStore.FailuresBeforeLockout, results.Count(r => r is SignInResult.Refused));
        Assert.All(results.OfType<SignInResult.LockedOut>(), locked => Assert.Equal(Start.AddMinutes(1), locked.Until));
        Assert.Equal(20 - EditorStore.FailuresBeforeLockout, results.Count(r => r is SignInResult.LockedOut));
        var code = Totp.Code(enrolment.TotpSecret, Totp.StepAt(_clock.Now));
        Assert.IsType<SignInResult.LockedOut>(await _editors.SignInAsync("erin", Password, code, CancellationToken.None));
        Assert.Equal(EditorStore.FailuresBeforeLockout, await ScalarAsync<int>("SELECT failed_sign_ins FROM editors WHERE name = 'erin'"));
    }

    [Fact]
    public async Task Attempts_on_a_locked_account_are_not_counted_and_leave_one_audit_entry_per_lock()
    {
        await _editors.AddAsync("frank", EditorRole.Editor, Password, CancellationToken.None);

        await GuessAsync("frank", 50);
        Assert.Equal(EditorStore.FailuresBeforeLockout + 1, await RefusalsLoggedAsync("frank"));

        _clock.Now = Start.AddMinutes(2);
        var outcomes = await GuessAsync("frank", 50);

        // Only the first guess after the lock ended was checked: it locks for 2 minutes (the 6th failure), not an hour (the 50th).
        Assert.Equal(Start.AddMinutes(4), Assert.IsType<SignInResult.LockedOut>(outcomes[1]).Until);
        Assert.Equal(EditorStore.FailuresBeforeLockout + 3, await RefusalsLoggedAsync("frank"));
        var entries = await _audit.ListAsync(1, CancellationToken.None);
        Assert.Contains(entries, e => e.Detail == "wrong password; account locked until 2026-11-30 12:04 UTC");
        Assert.Contains(entries, e => e.Detail.StartsWith("account locked until 2026-11-30 12:04 UTC;", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Guesses_at_unknown_names_leave_one_audit_entry_a_minute()
    {
        for (var i = 0; i < 50; i++)
        {
            Assert.IsType<SignInResult.Refused>(await _editors.SignInAsync($"nobody-{i}", "any password at all", "123456", CancellationToken.None));
        }

        _clock.Now = Start.AddSeconds(61);
        Assert.IsType<SignInResult.Refused>(await _editors.SignInAsync("nobody", "any password at all", "123456", CancellationToken.None));

        Assert.Equal(2, await ScalarAsync<long>("SELECT count(*) FROM audit_log WHERE action = 'sign-in refused' AND editor_id IS NULL"));
    }

    [Fact]
    public async Task Weak_passwords_and_bad_names_are_refused_and_a_reset_second_factor_replaces_the_old_one()
    {
        await Assert.ThrowsAsync<EditorRefusedException>(() => _editors.AddAsync("carol", EditorRole.Editor, "password123", CancellationToken.None));
        await Assert.ThrowsAsync<EditorRefusedException>(() => _editors.AddAsync("../carol", EditorRole.Editor, Password, CancellationToken.None));
        var enrolment = await _editors.AddAsync("carol", EditorRole.Editor, Password, CancellationToken.None);
        await Assert.ThrowsAsync<EditorRefusedException>(() => _editors.AddAsync("carol", EditorRole.Editor, Password, CancellationToken.None));

        var reset = await _editors.ResetTwoFactorAsync("carol", CancellationToken.None);

        var step = Totp.StepAt(_clock.Now);
        Assert.IsType<SignInResult.Refused>(await _editors.SignInAsync("carol", Password, Totp.Code(enrolment.TotpSecret, step), CancellationToken.None));
        Assert.IsType<SignInResult.SignedIn>(await _editors.SignInAsync("carol", Password, Totp.Code(reset.TotpSecret, step), CancellationToken.None));
        await _editors.DisableAsync("carol", CancellationToken.None);
        Assert.IsType<SignInResult.Refused>(await _editors.SignInAsync("carol", Password, Totp.Code(reset.TotpSecret, step + 1), CancellationToken.None));
    }

    private async Task<List<SignInResult>> GuessAsync(string name, int guesses)
    {
        var outcomes = new List<SignInResult>();
        for (var i = 0; i < guesses; i++)
        {
            outcomes.Add(await _editors.SignInAsync(name, $"wrong guess {i} of many", "123456", CancellationToken.None));
        }

        return outcomes;
    }

    private Task<long> RefusalsLoggedAsync(string name) =>
        ScalarAsync<long>($"SELECT count(*) FROM audit_log WHERE action = 'sign-in refused' AND editor_name = '{name}'");

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var command = _dataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
