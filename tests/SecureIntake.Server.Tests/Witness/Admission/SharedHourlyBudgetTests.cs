using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using SecureIntake.Core.Storage;
using SecureIntake.Testing;
using SecureIntake.Web.Witness;
using SecureIntake.Web.Witness.Admission;

namespace SecureIntake.Server.Tests.Witness.Admission;

/// <summary>
/// The hour's intake budget as two web nodes see it: each node has its own connections to one PostgreSQL database,
/// as two `secureintake web` processes do, and both read one fake clock.
/// </summary>
public sealed class SharedHourlyBudgetTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 1, 10, 17, 33, TimeSpan.Zero));
    private NpgsqlDataSource _firstNode = null!;
    private NpgsqlDataSource _secondNode = null!;

    public async Task InitializeAsync()
    {
        var database = await (await PostgresCluster.GetSharedAsync()).CreateDatabaseAsync();
        _firstNode = NpgsqlDataSource.Create(database);
        _secondNode = NpgsqlDataSource.Create(database);
        await new Migrator(_firstNode, NullLogger<Migrator>.Instance).MigrateAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _firstNode.DisposeAsync();
        await _secondNode.DisposeAsync();
    }

    [Fact]
    public async Task Two_nodes_taking_posts_at_once_admit_together_no_more_than_the_hours_budget()
    {
        var first = new HourlyBudget(maxPosts: 25, maxBytes: 1000, _firstNode, _clock);
        var second = new HourlyBudget(maxPosts: 25, maxBytes: 1000, _secondNode, _clock);

        var takes = await Task.WhenAll(Enumerable.Range(0, 80)
            .Select(i => Task.Run(() => (i % 2 == 0 ? first : second).TryTakeAsync(posts: 1, bytes: 0, CancellationToken.None))));

        Assert.Equal(25, takes.Count(t => t.Hour is not null));
        Assert.All(takes.Where(t => t.Hour is null), t => Assert.Equal(TimeSpan.FromMinutes(43), t.RetryAfter));
        Assert.Equal(25L, await ScalarAsync<long>("SELECT posts FROM intake_hours"));
    }

    [Fact]
    public async Task Bytes_read_on_both_nodes_are_refused_past_the_budget_while_posts_are_counted_apart()
    {
        var first = new HourlyBudget(maxPosts: 100, maxBytes: 1000, _firstNode, _clock);
        var second = new HourlyBudget(maxPosts: 100, maxBytes: 1000, _secondNode, _clock);

        Assert.NotNull((await first.TryTakeAsync(0, 600, CancellationToken.None)).Hour);
        Assert.NotNull((await second.TryTakeAsync(1, 0, CancellationToken.None)).Hour);
        Assert.Null((await second.TryTakeAsync(0, 401, CancellationToken.None)).Hour);
        Assert.NotNull((await second.TryTakeAsync(0, 400, CancellationToken.None)).Hour);
        Assert.Null((await first.TryTakeAsync(0, 1, CancellationToken.None)).Hour);
    }

    [Fact]
    public async Task The_budget_is_whole_again_in_the_next_hour_and_the_ended_hours_counts_are_removed()
    {
        var first = new HourlyBudget(maxPosts: 2, maxBytes: 1000, _firstNode, _clock);
        var second = new HourlyBudget(maxPosts: 2, maxBytes: 1000, _secondNode, _clock);
        Assert.NotNull((await first.TryTakeAsync(1, 0, CancellationToken.None)).Hour);
        Assert.NotNull((await second.TryTakeAsync(1, 0, CancellationToken.None)).Hour);
        var (refused, retryAfter) = await first.TryTakeAsync(1, 0, CancellationToken.None);
        Assert.Null(refused);
        Assert.Equal(TimeSpan.FromMinutes(43), retryAfter);

        _clock.Advance(TimeSpan.FromMinutes(42));
        Assert.Null((await second.TryTakeAsync(1, 0, CancellationToken.None)).Hour);

        _clock.Advance(TimeSpan.FromMinutes(1)); // 11:00:33
        Assert.NotNull((await second.TryTakeAsync(1, 0, CancellationToken.None)).Hour);
        Assert.NotNull((await first.TryTakeAsync(1, 0, CancellationToken.None)).Hour);
        Assert.Null((await first.TryTakeAsync(1, 0, CancellationToken.None)).Hour);

        // Only this hour's counts are left, and its row does not tell at which minute anything arrived.
        Assert.Equal(1L, await ScalarAsync<long>("SELECT count(*) FROM intake_hours"));
        Assert.Equal(new DateTime(2026, 12, 1, 11, 0, 0, DateTimeKind.Utc), await ScalarAsync<DateTime>("SELECT hour FROM intake_hours"));
    }

    [Fact]
    public async Task What_a_post_not_kept_took_is_given_back_for_the_other_node_to_use()
    {
        var first = new HourlyBudget(maxPosts: 1, maxBytes: 1000, _firstNode, _clock);
        var second = new HourlyBudget(maxPosts: 1, maxBytes: 1000, _secondNode, _clock);
        var hour = (await first.TryTakeAsync(1, 1000, CancellationToken.None)).Hour!.Value;
        Assert.Null((await second.TryTakeAsync(1, 0, CancellationToken.None)).Hour);

        first.Refund(hour, posts: 1, bytes: 1000);

        Assert.NotNull((await second.TryTakeAsync(1, 1000, CancellationToken.None)).Hour);
    }

    [Fact]
    public async Task A_kept_post_spends_the_bytes_it_read_and_gives_back_what_was_taken_ahead()
    {
        using var admission = new IntakeAdmission(Options.Create(new IntakeLimits { AdmissionWaitSeconds = 0 }), _clock, _firstNode);
        using (var ticket = await admission.AdmitAsync(new FormToken("kept-post-nonce", _clock.GetUtcNow().AddHours(1)), CancellationToken.None))
        {
            await ticket.TakeBytesAsync(300, CancellationToken.None);
            await ticket.TakeBytesAsync(700, CancellationToken.None);
            Assert.Equal(AdmissionTicket.BytesPerTake, await ScalarAsync<long>("SELECT bytes FROM intake_hours"));
            ticket.Kept();
        }

        Assert.Equal(1000L, await ScalarAsync<long>("SELECT bytes FROM intake_hours"));
        Assert.Equal(1L, await ScalarAsync<long>("SELECT posts FROM intake_hours"));
    }

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var command = _firstNode.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
