using Npgsql;
using SecureIntake.Core.Audit;
using SecureIntake.Core.Editors;

namespace SecureIntake.Core.Tests.Editors;

/// <summary>How long a desk session lives, on a clock the test moves: idle and absolute time-outs, and what ends them early.</summary>
public sealed class DeskSessionsTests : IAsyncLifetime, IDisposable
{
    private const string Password = "kettle-orbit-mangrove-17";
    private static readonly DateTimeOffset Start = new(2026, 11, 30, 23, 50, 0, TimeSpan.Zero);
    private readonly ManualClock _clock = new(Start);
    private NpgsqlDataSource _dataSource = null!;
    private EditorStore _editors = null!;
    private DeskSessions _sessions = null!;

    public async Task InitializeAsync()
    {
        _dataSource = await CoreDatabase.CreateAsync();
        _editors = new EditorStore(_dataSource, new PasswordHasher(8192, 1), new AuditLog(_dataSource, _clock), _clock);
        _sessions = new DeskSessions(_dataSource, _clock);
    }

    public async Task DisposeAsync() => await _dataSource.DisposeAsync();

    public void Dispose() => _editors.Dispose();

    [Fact]
    public async Task A_browser_session_left_alone_longer_than_the_idle_time_out_is_over_and_stays_over()
    {
        var (token, _) = await _sessions.StartAsync(await AddAsync("idle"), DeskSessionKind.Browser, CancellationToken.None);

        _clock.Now = Start + DeskSessions.BrowserIdleTimeout - TimeSpan.FromSeconds(1);
        Assert.NotNull(await FindAsync(token));

        // Used a second before its time-out, the session counts its idle time from then.
        _clock.Now += DeskSessions.BrowserIdleTimeout - TimeSpan.FromSeconds(1);
        Assert.NotNull(await FindAsync(token));

        _clock.Now += DeskSessions.BrowserIdleTimeout + TimeSpan.FromSeconds(1);
        Assert.Null(await FindAsync(token));

        // Ended, not just refused this once: with the clock set back it is still gone.
        _clock.Now = Start;
        Assert.Null(await FindAsync(token));
    }

    [Fact]
    public async Task A_browser_session_in_constant_use_still_ends_at_its_absolute_time_out()
    {
        var (token, expiresAt) = await _sessions.StartAsync(await AddAsync("busy"), DeskSessionKind.Browser, CancellationToken.None);
        Assert.Equal(Start + DeskSessions.BrowserLifetime, expiresAt);

        var step = DeskSessions.BrowserIdleTimeout / 2;
        while (_clock.Now + step <= expiresAt)
        {
            _clock.Now += step;
            Assert.NotNull(await FindAsync(token));
        }

        _clock.Now = expiresAt + TimeSpan.FromSeconds(1);
        Assert.Null(await FindAsync(token));
    }

    [Fact]
    public async Task A_desk_tool_token_lives_an_hour_however_busy_and_is_not_a_browser_session()
    {
        var (token, expiresAt) = await _sessions.StartAsync(await AddAsync("tool"), DeskSessionKind.Tool, CancellationToken.None);
        Assert.Equal(Start + DeskSessions.ToolLifetime, expiresAt);
        Assert.Null(await FindAsync(token, DeskSessionKind.Browser));

        _clock.Now = expiresAt - TimeSpan.FromSeconds(1);
        Assert.NotNull(await FindAsync(token, DeskSessionKind.Tool));
        _clock.Now = expiresAt + TimeSpan.FromSeconds(1);
        Assert.Null(await FindAsync(token, DeskSessionKind.Tool));
    }

    [Fact]
    public async Task A_configured_short_idle_time_out_is_kept_and_use_within_it_keeps_the_session()
    {
        var sessions = new DeskSessions(_dataSource, _clock,
            Microsoft.Extensions.Options.Options.Create(new EditorOptions { SessionIdleTimeout = TimeSpan.FromSeconds(20), SessionLifetime = TimeSpan.FromMinutes(2) }));
        var (token, expiresAt) = await sessions.StartAsync(await AddAsync("short"), DeskSessionKind.Browser, CancellationToken.None);
        Assert.Equal(Start + TimeSpan.FromMinutes(2), expiresAt);

        // Used every 15 s, well past the 20 s time-out in all: each use counts, not only one a minute.
        for (var use = 0; use < 4; use++)
        {
            _clock.Now += TimeSpan.FromSeconds(15);
            Assert.NotNull(await sessions.FindAsync(token, DeskSessionKind.Browser, CancellationToken.None));
        }

        _clock.Now += TimeSpan.FromSeconds(21);
        Assert.Null(await sessions.FindAsync(token, DeskSessionKind.Browser, CancellationToken.None));
    }

    [Fact]
    public async Task A_second_factor_reset_ends_that_editors_live_sessions_and_no_one_elses()
    {
        var carol = await AddAsync("carol");
        var (browser, _) = await _sessions.StartAsync(carol, DeskSessionKind.Browser, CancellationToken.None);
        var (tool, _) = await _sessions.StartAsync(carol, DeskSessionKind.Tool, CancellationToken.None);
        var (bystander, _) = await _sessions.StartAsync(await AddAsync("dan"), DeskSessionKind.Browser, CancellationToken.None);

        await _editors.ResetTwoFactorAsync("carol", CancellationToken.None);

        Assert.Null(await FindAsync(browser));
        Assert.Null(await FindAsync(tool, DeskSessionKind.Tool));
        Assert.Equal("dan", (await FindAsync(bystander))?.Editor.Name);
    }

    [Fact]
    public async Task A_disabled_editors_session_is_refused_by_the_lookup_itself_even_while_its_row_remains()
    {
        var erin = await AddAsync("erin");
        var (browser, _) = await _sessions.StartAsync(erin, DeskSessionKind.Browser, CancellationToken.None);
        var (tool, _) = await _sessions.StartAsync(erin, DeskSessionKind.Tool, CancellationToken.None);
        Assert.NotNull(await FindAsync(browser));

        // A session started in the instant of a disable outlives the disable's own clean-up; the account check still stops it.
        await ExecuteAsync("UPDATE editors SET disabled = true WHERE name = 'erin'");
        Assert.Equal(2L, await ScalarAsync<long>("SELECT count(*) FROM desk_sessions"));

        Assert.Null(await FindAsync(browser));
        Assert.Null(await FindAsync(tool, DeskSessionKind.Tool));
    }

    [Fact]
    public async Task Disabling_an_editor_ends_their_browser_session_and_desk_tool_token_at_once()
    {
        var frank = await AddAsync("frank");
        var (browser, _) = await _sessions.StartAsync(frank, DeskSessionKind.Browser, CancellationToken.None);
        var (frankTool, _) = await _sessions.StartAsync(frank, DeskSessionKind.Tool, CancellationToken.None);
        var (tool, _) = await _sessions.StartAsync(await AddAsync("gail"), DeskSessionKind.Tool, CancellationToken.None);

        await _editors.DisableAsync("frank", CancellationToken.None);

        Assert.Null(await FindAsync(browser));
        Assert.Null(await FindAsync(frankTool, DeskSessionKind.Tool));
        Assert.Equal("gail", (await FindAsync(tool, DeskSessionKind.Tool))?.Editor.Name);
    }

    [Fact]
    public async Task A_session_that_outlives_a_second_factor_reset_is_told_the_editor_must_enrol_a_new_authenticator()
    {
        var hana = await AddAsync("hana");
        await ExecuteAsync("UPDATE editors SET password_set_by_admin = false, totp_seen_by_admin = false WHERE name = 'hana'");
        var (before, _) = await _sessions.StartAsync(hana, DeskSessionKind.Browser, CancellationToken.None);
        Assert.False((await FindAsync(before))!.Due.Any);

        await _editors.ResetTwoFactorAsync("hana", CancellationToken.None);
        Assert.Null(await FindAsync(before));

        // A sign-in racing the reset starts a session after it: the admin saw the new secret, so the desk stays shut to it.
        var (racing, _) = await _sessions.StartAsync(hana, DeskSessionKind.Browser, CancellationToken.None);
        var due = (await FindAsync(racing))!.Due;
        Assert.True(due.MustEnrolTwoFactor);
        Assert.False(due.MustChangePassword);
    }

    [Fact]
    public async Task Each_lookup_reads_the_editors_desks_language_and_role_as_they_are_at_that_moment()
    {
        await ExecuteAsync("INSERT INTO desks (name) VALUES ('investigations')");
        var defaultDesk = await ScalarAsync<Guid>("SELECT id FROM desks WHERE name = 'default'");
        var investigations = await ScalarAsync<Guid>("SELECT id FROM desks WHERE name = 'investigations'");
        var membership = new DeskMembership(_dataSource, new AuditLog(_dataSource, _clock));
        var ivan = await AddAsync("ivan");
        await membership.JoinAsync(null, "ivan", ["default", "investigations"], CancellationToken.None);
        var (token, _) = await _sessions.StartAsync(ivan, DeskSessionKind.Browser, CancellationToken.None);

        var first = (await FindAsync(token))!;
        Assert.Equal(new[] { defaultDesk, investigations }.Order(), first.Scope.DeskIds.Order());
        Assert.False(first.Scope.IsEverything);
        Assert.Equal("en", first.Language);

        await membership.LeaveAsync(null, "ivan", ["investigations"], CancellationToken.None);
        await new EditorLanguage(_dataSource).SetAsync(ivan.Id, "kk", CancellationToken.None);
        var next = (await FindAsync(token))!;
        Assert.Equal([defaultDesk], next.Scope.DeskIds);
        Assert.Equal("kk", next.Language);

        await membership.LeaveAsync(null, "ivan", ["default"], CancellationToken.None);
        Assert.Empty((await FindAsync(token))!.Scope.DeskIds);

        // An admin sees every desk, whatever desk_members holds for them.
        var (admin, _) = await _sessions.StartAsync((await _editors.AddAsync("judy", EditorRole.Admin, Password, CancellationToken.None)).Editor,
            DeskSessionKind.Browser, CancellationToken.None);
        var judy = (await FindAsync(admin))!;
        Assert.True(judy.Scope.IsEverything);
        Assert.Equal(EditorRole.Admin, judy.Editor.Role);
    }

    [Fact]
    public async Task Tokens_and_form_tokens_keep_the_unpadded_base64url_alphabet_they_were_issued_in()
    {
        var (token, _) = await _sessions.StartAsync(await AddAsync("kim"), DeskSessionKind.Browser, CancellationToken.None);
        Assert.Matches("^[A-Za-z0-9_-]{43}$", token);

        // Forms rendered before an upgrade carry a token encoded by the old hand-written code: it must still match.
        static string Old(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        foreach (var session in new[] { token, "a+b/c", "-_-_", Old(Enumerable.Range(0, 32).Select(i => (byte)(i * 37 + 250)).ToArray()) })
        {
            var expected = Old(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.ASCII.GetBytes("secureintake desk form v1 " + session)));
            Assert.Equal(expected, DeskSessions.FormToken(session));
        }

        Assert.NotNull(await FindAsync(token));
    }

    [Fact]
    public async Task Each_lock_out_after_the_fifth_failure_doubles_until_it_reaches_an_hour()
    {
        await AddAsync("mallory-target");
        for (var i = 1; i < EditorStore.FailuresBeforeLockout; i++)
        {
            Assert.IsType<SignInResult.Refused>(await WrongAsync());
        }

        var lockouts = new List<double>();
        for (var failure = EditorStore.FailuresBeforeLockout; failure < EditorStore.FailuresBeforeLockout + 9; failure++)
        {
            Assert.IsType<SignInResult.Refused>(await WrongAsync());
            var locked = Assert.IsType<SignInResult.LockedOut>(await WrongAsync()); // not counted: refused unchecked
            lockouts.Add((locked.Until - _clock.Now).TotalMinutes);
            _clock.Now = locked.Until;
        }

        Assert.Equal([1, 2, 4, 8, 16, 32, 60, 60, 60], lockouts);

        // However many failures were counted (an attacker with years), the lock-out neither overflows nor grows.
        await using (var command = _dataSource.CreateCommand("UPDATE editors SET failed_sign_ins = 2000000000 WHERE name = 'mallory-target'"))
        {
            await command.ExecuteNonQueryAsync();
        }

        Assert.IsType<SignInResult.Refused>(await WrongAsync());
        Assert.Equal(_clock.Now + EditorStore.LongestLockout, Assert.IsType<SignInResult.LockedOut>(await WrongAsync()).Until);
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var command = _dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var command = _dataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private Task<SignInResult> WrongAsync() => _editors.SignInAsync("mallory-target", "not the password, a guess", "123456", CancellationToken.None);

    private async Task<Editor> AddAsync(string name) => (await _editors.AddAsync(name, EditorRole.Editor, Password, CancellationToken.None)).Editor;

    private Task<DeskSession?> FindAsync(string token, DeskSessionKind kind = DeskSessionKind.Browser) => _sessions.FindAsync(token, kind, CancellationToken.None);
}
