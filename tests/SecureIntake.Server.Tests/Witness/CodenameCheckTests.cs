using System.Security.Cryptography;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using SecureIntake.Core.Blobs;
using SecureIntake.Core.Codenames;
using SecureIntake.Core.Intake;
using SecureIntake.Core.Recipients;
using SecureIntake.Testing;
using SecureIntake.Web.Witness;

namespace SecureIntake.Server.Tests.Witness;

/// <summary>The codename check's throttle on its own clock: the 1 s floor of every answer and the two checks at once.</summary>
public sealed class CodenameCheckTests : IAsyncLifetime, IDisposable
{
    private const string Wrong = "one two three four five six seven";
    private readonly ObservedClock _clock = new();
    private readonly TemporaryDirectory _blobs = new("si-codename-check-blobs-");
    private readonly Codenames _codenames = new(Options.Create(new CodenameOptions
    {
        Pepper = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
        MemoryKiB = 8192,
        Iterations = 1,
    }));

    private NpgsqlDataSource _dataSource = null!;
    private CodenameCheck _check = null!;

    public async Task InitializeAsync()
    {
        var database = await (await PostgresCluster.GetSharedAsync()).CreateDatabaseAsync();
        (await SecureIntakeCli.RunAsync(database, "migrate")).EnsureSuccess("migrate");
        _dataSource = NpgsqlDataSource.Create(database);
        var blobs = new BlobStore(Options.Create(new BlobStoreOptions { BlobDirectory = _blobs.Path, MinimumFreeBytes = 0 }));
        var intake = new IntakeService(new RecipientStore(_dataSource, _clock), blobs, _dataSource, _clock);
        _check = new CodenameCheck(_codenames, intake, Options.Create(new IntakeLimits { MaxWaitingCodenameChecks = 8 }), _clock, _dataSource);
    }

    public async Task DisposeAsync() => await _dataSource.DisposeAsync();

    public void Dispose()
    {
        _check.Dispose();
        _codenames.Dispose();
        _blobs.Dispose();
    }

    [Fact]
    public async Task A_wrong_codename_is_answered_only_once_a_second_has_passed_on_the_clock()
    {
        var answer = _check.FindAsync(Wrong, CancellationToken.None);

        // The hash and the lookup are done when the check asks the clock to wait out the rest of its second.
        Assert.Equal(TimeSpan.FromSeconds(1), await _clock.NextTimerAsync());
        _clock.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(answer.IsCompleted, "answered before a second had passed");
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Null(await answer.WaitAsync(TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public async Task A_check_that_took_longer_than_the_floor_is_not_held_back_further()
    {
        await using var lookups = await BlockLookupsAsync();
        var answer = _check.FindAsync(Wrong, CancellationToken.None);
        await WaitForBlockedLookupsAsync(1);
        _clock.Advance(TimeSpan.FromSeconds(3));

        await lookups.RollbackAsync();

        Assert.Null(await answer.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal(0, _clock.TimersCreated);
    }

    [Fact]
    public async Task A_third_check_waits_until_one_of_the_two_running_ends()
    {
        await using var lookups = await BlockLookupsAsync();
        var first = _check.FindAsync(Wrong, CancellationToken.None);
        var second = _check.FindAsync(Wrong, CancellationToken.None);
        await WaitForBlockedLookupsAsync(2);

        var third = _check.FindAsync(Wrong, CancellationToken.None);

        // Had it taken a place, it would count as checking from the moment it was called.
        Assert.Equal(2, _check.Checking);
        Assert.False(third.IsCompleted);
        await lookups.RollbackAsync();

        // A check reads the clock and then asks it to wait; an advance between the two would leave its
        // wait for a second that never comes, so the clock moves in steps until all three have answered.
        await AdvanceUntilDoneAsync(first, second, third);
        Assert.Null(await first);
        Assert.Null(await second);
        Assert.Null(await third);
        Assert.Equal(0, _check.Checking);
    }

    private async Task AdvanceUntilDoneAsync(params Task[] checks)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!checks.All(check => check.IsCompleted))
        {
            Assert.True(DateTime.UtcNow < deadline, "a check never answered");
            _clock.Advance(TimeSpan.FromMilliseconds(100));
            await Task.Delay(20);
        }
    }

    /// <summary>Holds a lock on the submissions table, so every lookup waits in PostgreSQL until it is rolled back.</summary>
    private async Task<NpgsqlTransaction> BlockLookupsAsync()
    {
        var connection = await _dataSource.OpenConnectionAsync();
        var transaction = await connection.BeginTransactionAsync();
        await using var command = new NpgsqlCommand("LOCK TABLE submissions IN ACCESS EXCLUSIVE MODE", connection, transaction);
        await command.ExecuteNonQueryAsync();
        return transaction;
    }

    private async Task WaitForBlockedLookupsAsync(int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            await using var command = _dataSource.CreateCommand(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
            var blocked = (long)(await command.ExecuteScalarAsync())!;
            Assert.True(blocked <= count, $"{blocked} lookups ran at once");
            if (blocked == count)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{blocked} of {count} lookups reached the database within 60 s");
            await Task.Delay(20);
        }
    }

    /// <summary>A fake clock that tells which waits were asked of it.</summary>
    private sealed class ObservedClock() : FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 23, 59, 0, TimeSpan.Zero))
    {
        private readonly Channel<TimeSpan> _timers = Channel.CreateUnbounded<TimeSpan>();
        private int _created;

        public int TimersCreated => Volatile.Read(ref _created);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            Interlocked.Increment(ref _created);
            _timers.Writer.TryWrite(dueTime);
            return base.CreateTimer(callback, state, dueTime, period);
        }

        public async Task<TimeSpan> NextTimerAsync() => await _timers.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));
    }
}
