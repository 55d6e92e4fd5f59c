using Microsoft.Extensions.Time.Testing;
using SecureIntake.Web.Witness.Admission;

namespace SecureIntake.Server.Tests.Witness.Admission;

public sealed class HourlyBudgetTests
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 1, 10, 0, 30, TimeSpan.Zero));

    [Fact]
    public void Posts_beyond_the_hours_budget_are_refused_until_the_oldest_minute_leaves_the_window()
    {
        var budget = new HourlyBudget(maxPosts: 3, maxBytes: 1000, _clock);
        Assert.NotNull(budget.TryTakePost(out _));
        _clock.Advance(TimeSpan.FromMinutes(20));
        Assert.NotNull(budget.TryTakePost(out _));
        Assert.NotNull(budget.TryTakePost(out _));

        Assert.Null(budget.TryTakePost(out var retryAfter));
        Assert.Equal(TimeSpan.FromMinutes(40), retryAfter);

        _clock.Advance(TimeSpan.FromMinutes(40));
        Assert.NotNull(budget.TryTakePost(out _));
        Assert.Null(budget.TryTakePost(out _));
    }

    [Fact]
    public void Bytes_are_counted_apart_from_posts_and_refused_past_the_budget()
    {
        var budget = new HourlyBudget(maxPosts: 100, maxBytes: 1000, _clock);
        Assert.NotNull(budget.TryTakeBytes(600, out _));
        Assert.NotNull(budget.TryTakePost(out _));

        Assert.Null(budget.TryTakeBytes(401, out var retryAfter));
        Assert.Equal(TimeSpan.FromMinutes(60), retryAfter);
        Assert.NotNull(budget.TryTakeBytes(400, out _));

        _clock.Advance(TimeSpan.FromHours(1));
        Assert.NotNull(budget.TryTakeBytes(1000, out _));
    }

    [Fact]
    public void What_a_post_gives_back_is_taken_off_the_minute_it_was_counted_in()
    {
        var budget = new HourlyBudget(maxPosts: 1, maxBytes: 1000, _clock);
        var minute = budget.TryTakePost(out _)!.Value;
        var bytesMinute = budget.TryTakeBytes(1000, out _)!.Value;
        Assert.Null(budget.TryTakePost(out _));

        _clock.Advance(TimeSpan.FromMinutes(5));
        budget.Refund(minute, posts: 1, bytes: 0);
        budget.Refund(bytesMinute, posts: 0, bytes: 1000);

        Assert.NotNull(budget.TryTakePost(out _));
        Assert.NotNull(budget.TryTakeBytes(1000, out _));
    }
}
