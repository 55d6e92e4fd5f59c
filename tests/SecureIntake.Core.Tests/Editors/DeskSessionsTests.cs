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
        Assert.Equal("dan", (await FindAsync(bystander))?.Name);
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

    private Task<SignInResult> WrongAsync() => _editors.SignInAsync("mallory-target", "not the password, a guess", "123456", CancellationToken.None);

    private async Task<Editor> AddAsync(string name) => (await _editors.AddAsync(name, EditorRole.Editor, Password, CancellationToken.None)).Editor;

    private Task<Editor?> FindAsync(string token, DeskSessionKind kind = DeskSessionKind.Browser) => _sessions.FindAsync(token, kind, CancellationToken.None);
}
