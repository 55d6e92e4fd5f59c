using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using SecureIntake.Core.Status;
using SecureIntake.Mail.Ingest;
using SecureIntake.Testing;

namespace SecureIntake.Mail.Tests;

/// <summary>
/// The IDLE watcher against a real Dovecot. The interval is an hour and no Hangfire runs here, so whatever is taken in
/// was taken in because the server said mail arrived.
/// </summary>
public sealed class MailboxWatcherTests : IAsyncLifetime
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(120);

    private readonly List<MailboxWatcher> _watchers = [];
    private readonly List<IAsyncDisposable> _disposables = [];
    private MailTestBed _bed = null!;
    private DovecotServer _dovecot = null!;

    public async Task InitializeAsync()
    {
        _bed = await MailTestBed.CreateAsync();
        _dovecot = await DovecotServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        try
        {
            foreach (var watcher in _watchers)
            {
                await watcher.StopAsync(CancellationToken.None).WaitAsync(Generous);
                watcher.Dispose();
            }

            foreach (var disposable in _disposables)
            {
                await disposable.DisposeAsync();
            }
        }
        finally
        {
            // A watcher that did not stop fails the test, but must not leave a Dovecot running behind it.
            await _dovecot.DisposeAsync();
            await _bed.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_message_that_arrives_while_the_watcher_idles_is_taken_in_without_waiting_for_the_interval()
    {
        var (watcher, probe) = await StartAsync(Settings(_dovecot.Port));
        await EventuallyAsync(() => probe[WatcherStep.PassFinished] >= 1 && probe[WatcherStep.Idling] >= 1, "the first pass and the IDLE");

        var message = Message("arrived while idling");
        await _dovecot.DeliverAsync(message);

        await EventuallyAsync(async () => await _dovecot.CountAsync() == 0 && await SubmissionsAsync() == 1, "the message to be taken in");
        Assert.Contains(await _bed.DecryptAllAsync(), p => p.AsSpan().SequenceEqual(message));
        Assert.True(watcher.NewMailNotices >= 1);
    }

    [Fact]
    public async Task A_flood_of_new_mail_notices_costs_one_pass_running_and_one_pending_not_a_pass_per_message()
    {
        const int Flood = 50;
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var (watcher, probe) = await StartAsync(Settings(_dovecot.Port), hold);
        await EventuallyAsync(() => probe[WatcherStep.PassStarting] == 1 && probe[WatcherStep.Idling] >= 1, "the first pass to be held and the IDLE");

        // One notice per message: each is delivered only once the server reported the one before.
        for (var i = 1; i <= Flood; i++)
        {
            await _dovecot.DeliverAsync(Message($"junk {i}"));
            var notices = i;
            await EventuallyAsync(() => watcher.NewMailNotices >= notices, $"the server to report message {i}");
        }

        Assert.Equal(1, watcher.PendingPasses);
        hold.SetResult();

        await EventuallyAsync(async () => await _dovecot.CountAsync() == 0 && await SubmissionsAsync() == Flood && probe[WatcherStep.PassFinished] == 2,
            "the held pass and the one pending to take everything in");
        Assert.Equal(2, probe[WatcherStep.PassStarting]);
        Assert.Equal(0, watcher.PendingPasses);
    }

    [Fact]
    public async Task The_watcher_connects_again_after_the_server_drops_it_and_takes_in_mail_sent_after()
    {
        var relay = Relay(hideIdle: false);
        var (_, probe) = await StartAsync(Settings(relay.Port));
        await EventuallyAsync(() => probe[WatcherStep.PassFinished] >= 1 && probe[WatcherStep.Idling] >= 1, "the first pass and the IDLE");

        relay.DropAll();
        await EventuallyAsync(() => probe[WatcherStep.Connecting] >= 2 && probe[WatcherStep.Idling] >= 2 && probe[WatcherStep.PassFinished] >= 2,
            "the watcher to connect again, look, and idle");

        var message = Message("sent after the server dropped the watcher");
        await _dovecot.DeliverAsync(message);
        await EventuallyAsync(async () => await _dovecot.CountAsync() == 0 && await SubmissionsAsync() == 1, "the message to be taken in");
        Assert.Contains(await _bed.DecryptAllAsync(), p => p.AsSpan().SequenceEqual(message));
    }

    [Fact]
    public async Task The_idle_is_renewed_before_the_servers_limit_and_the_renewed_one_still_takes_mail_in()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var services = _bed.Services(Settings(_dovecot.Port));
        _disposables.Add(services);
        var (_, probe) = await StartAsync(services, hold: null, clock, status: null);
        await EventuallyAsync(() => probe[WatcherStep.PassFinished] >= 1 && probe[WatcherStep.Idling] == 1, "the first pass and the IDLE");

        clock.Advance(TimeSpan.FromMinutes(9)); // RFC 2177: at least every 29 minutes; NATs forget sooner
        await EventuallyAsync(() => probe[WatcherStep.Idling] == 2, "the IDLE to be renewed");
        Assert.Equal(1, probe[WatcherStep.Connecting]);

        await _dovecot.DeliverAsync(Message("arrived during the renewed IDLE"));
        await EventuallyAsync(async () => await _dovecot.CountAsync() == 0 && await SubmissionsAsync() == 1, "the message to be taken in");
    }

    [Fact]
    public async Task Stopping_the_host_ends_the_watcher_promptly_and_closes_its_connection()
    {
        var relay = Relay(hideIdle: false);
        var (watcher, probe) = await StartAsync(Settings(relay.Port));
        await EventuallyAsync(() => probe[WatcherStep.PassFinished] >= 1 && probe[WatcherStep.Idling] >= 1 && relay.OpenConnections == 1,
            "the watcher to idle on its one connection");

        await watcher.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.True(watcher.ExecuteTask!.IsCompletedSuccessfully, $"the watcher ended {watcher.ExecuteTask.Status}");
        await EventuallyAsync(() => relay.OpenConnections == 0, "the IMAP connection to close");
    }

    [Fact]
    public async Task On_a_server_without_idle_the_watcher_tries_once_and_leaves_it_to_the_interval_pass()
    {
        var relay = Relay(hideIdle: true);
        var (watcher, probe) = await StartAsync(Settings(relay.Port));

        await watcher.ExecuteTask!.WaitAsync(Generous);

        Assert.True(watcher.ExecuteTask.IsCompletedSuccessfully);
        Assert.Equal(1, probe[WatcherStep.Connecting]);
        Assert.Equal(0, probe[WatcherStep.Idling]);
        await EventuallyAsync(() => relay.OpenConnections == 0, "the connection to close");
    }

    [Fact]
    public async Task Mail_that_arrives_while_another_gateway_drains_is_taken_in_once_that_one_is_done()
    {
        var (_, probe) = await StartAsync(Settings(_dovecot.Port));
        await EventuallyAsync(() => probe[WatcherStep.PassFinished] >= 1 && probe[WatcherStep.Idling] >= 1, "the first pass and the IDLE");

        // Another host's gateway, as far as this one can tell: it holds the mailbox's lock.
        await using (var other = new NpgsqlConnection(_bed.Database))
        {
            await other.OpenAsync();
            await using (var command = new NpgsqlCommand("SELECT pg_advisory_lock(hashtextextended(@Mailbox, 0))", other))
            {
                command.Parameters.AddWithValue("Mailbox", $"{_dovecot.User}@{_dovecot.Host}:{_dovecot.Port}/INBOX");
                await command.ExecuteNonQueryAsync();
            }

            await _dovecot.DeliverAsync(Message("arrived after the other gateway fetched"));
            await EventuallyAsync(() => probe[WatcherStep.PassFinished] >= 2, "the woken pass to find the mailbox held");
            Assert.Equal(1, await _dovecot.CountAsync());

            // A pooled connection keeps its session (and the lock) after it is closed.
            await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock_all()", other);
            await unlock.ExecuteNonQueryAsync();
        }

        await EventuallyAsync(async () => await _dovecot.CountAsync() == 0 && await SubmissionsAsync() == 1, "the message to be taken in");
    }

    [Fact]
    public async Task The_watcher_waits_out_the_gateways_back_off_and_backs_off_longer_after_each_failed_connection()
    {
        using var refusing = LoopbackPort.Refusing();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var services = _bed.Services(Settings(refusing.Port));
        _disposables.Add(services);
        var status = new ServiceStatus(services.GetRequiredService<NpgsqlDataSource>(), clock);
        await status.FailedAsync(ImapGateway.Component, "AuthenticationException: as the desk shows it", CancellationToken.None);

        var (_, probe) = await StartAsync(services, hold: null, clock, status);
        await EventuallyAsync(() => probe.Waits.Count == 1, "the watcher to wait");
        var gatewayBackOff = probe.Waits.Single();
        Assert.InRange(gatewayBackOff, TimeSpan.FromSeconds(59), TimeSpan.FromMinutes(1)); // the database keeps microseconds
        Assert.Equal(0, probe[WatcherStep.Connecting]); // no login attempt while the gateway backs off

        // Each refused connection doubles the wait, up to five minutes; nothing is tried until the wait is over.
        clock.Advance(TimeSpan.FromMinutes(1));
        var expected = new List<TimeSpan> { gatewayBackOff };
        for (var wait = TimeSpan.FromSeconds(2); expected.Count < 12; wait = wait * 2 > TimeSpan.FromMinutes(5) ? TimeSpan.FromMinutes(5) : wait * 2)
        {
            expected.Add(wait);
            var attempts = expected.Count - 1;
            await EventuallyAsync(() => probe.Waits.Count == expected.Count, $"the watcher to wait after attempt {attempts}");
            Assert.Equal(attempts, probe[WatcherStep.Connecting]);
            clock.Advance(wait);
        }

        Assert.Equal(expected, probe.Waits.Take(expected.Count));
    }

    [Theory]
    [InlineData("127.0.0.1", null, true)]
    [InlineData("127.0.0.1", "true", true)]
    [InlineData("127.0.0.1", "false", false)]
    [InlineData(null, "true", false)]
    public void The_watcher_runs_only_with_a_mailbox_and_idle_left_on(string? host, string? idle, bool runs)
    {
        var settings = new Dictionary<string, string?> { ["Mail:Imap:Host"] = host };
        if (idle is not null)
        {
            settings["Mail:Imap:Idle"] = idle;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddMailboxWatcher(configuration);

        Assert.Equal(runs, services.Any(s => s.ImplementationType == typeof(MailboxWatcher)));
    }

    [Fact]
    public void A_setting_that_is_not_true_or_false_stops_the_start_naming_it()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Mail:Imap:Host"] = "127.0.0.1",
            ["Mail:Imap:Idle"] = "sometimes",
        }).Build();

        var error = Assert.Throws<InvalidOperationException>(() => new ServiceCollection().AddMailboxWatcher(configuration));
        Assert.Contains("Mail:Imap:Idle", error.Message, StringComparison.Ordinal);
    }

    private async Task<(MailboxWatcher Watcher, Probe Probe)> StartAsync(Dictionary<string, string?> settings, TaskCompletionSource? hold = null)
    {
        var services = _bed.Services(settings);
        _disposables.Add(services);
        return await StartAsync(services, hold, clock: null, status: null);
    }

    private async Task<(MailboxWatcher Watcher, Probe Probe)> StartAsync(ServiceProvider services, TaskCompletionSource? hold, TimeProvider? clock,
        ServiceStatus? status)
    {
        object[] overrides = [.. new object?[] { clock, status }.OfType<object>()];
        var watcher = ActivatorUtilities.CreateInstance<MailboxWatcher>(services, overrides);
        var probe = new Probe(hold);
        watcher.StepReached = probe.ReachedAsync;
        _watchers.Insert(0, watcher); // stopped before the services it uses are disposed
        await watcher.StartAsync(CancellationToken.None);
        return (watcher, probe);
    }

    private ImapRelay Relay(bool hideIdle)
    {
        var relay = new ImapRelay(_dovecot.Port, hideIdle);
        _disposables.Add(relay);
        return relay;
    }

    private Task<long> SubmissionsAsync() => _bed.ScalarAsync<long>("SELECT count(*) FROM submissions WHERE channel = 'mail'");

    private static Task EventuallyAsync(Func<bool> condition, string what) => EventuallyAsync(() => Task.FromResult(condition()), what);

    /// <summary>Waits for a condition, generously: the machine is small and shared, and a wait that ends early costs nothing.</summary>
    private static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Generous;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"waited {Generous.TotalSeconds} seconds for {what}");
            await Task.Delay(50);
        }
    }

    private Dictionary<string, string?> Settings(int port) => new()
    {
        ["Mail:Imap:Host"] = _dovecot.Host,
        ["Mail:Imap:Port"] = port.ToString(CultureInfo.InvariantCulture),
        ["Mail:Imap:Security"] = "none",
        ["Mail:Imap:User"] = _dovecot.User,
        ["Mail:Imap:Password"] = _dovecot.Password,
        ["Mail:Imap:IntervalMinutes"] = "59",
    };

    private static byte[] Message(string body) => Encoding.UTF8.GetBytes(
        $"From: witness@example.invalid\r\nTo: tips@newsroom.invalid\r\nSubject: tip\r\nMessage-ID: <{Guid.NewGuid()}@example.invalid>\r\n" +
        $"Content-Type: text/plain; charset=utf-8\r\n\r\nСвидетель: {body}\r\n");

    /// <summary>Counts the watcher's steps and the waits it chose; holds the first pass until <c>hold</c> completes.</summary>
    private sealed class Probe(TaskCompletionSource? hold)
    {
        private readonly ConcurrentDictionary<WatcherStep, int> _counts = new();

        public ConcurrentQueue<TimeSpan> Waits { get; } = new();

        public int this[WatcherStep step] => _counts.GetValueOrDefault(step);

        public async Task ReachedAsync(WatcherStep step, TimeSpan wait)
        {
            if (step == WatcherStep.BackingOff)
            {
                Waits.Enqueue(wait);
            }

            _counts.AddOrUpdate(step, 1, (_, n) => n + 1);
            if (step == WatcherStep.PassStarting && hold is not null)
            {
                await hold.Task;
            }
        }
    }
}
