using Npgsql;

namespace SecureIntake.Web.Witness.Admission;

/// <summary>
/// How much the witness side takes in per clock hour, for every web node together: posts admitted and bytes read,
/// counted in PostgreSQL (intake_hours). It bounds how fast anyone, honest or not, can fill the disk towards its
/// floor, so that editors have hours to notice a flood rather than minutes, however many web nodes there are.
/// Reaching it refuses new posts with the busy page until the next hour; what is kept is untouched. A post that is
/// not kept gives back what it took (<see cref="Refund"/>), so only what is stored, or still arriving, spends it.
/// Only counts per hour are stored, and an hour's row is removed once the hour is over.
/// </summary>
internal sealed class HourlyBudget(long maxPosts, long maxBytes, NpgsqlDataSource dataSource, TimeProvider clock)
{
    private long _purgedBeforeTicks;

    public long MaxBytes => maxBytes;

    /// <summary>
    /// Counts <paramref name="posts"/> and <paramref name="bytes"/> in the current hour, which is returned, or nothing
    /// (null) when either would pass the budget, with how long until the next hour.
    /// </summary>
    public async Task<(DateTimeOffset? Hour, TimeSpan RetryAfter)> TryTakeAsync(long posts, long bytes, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var hour = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero);
        // Whole minutes, rounded up and never zero: the page says "try again in N minutes".
        var retryAfter = TimeSpan.FromMinutes(Math.Max(1, Math.Ceiling((hour.AddHours(1) - now).TotalMinutes)));
        if (posts > maxPosts || bytes > maxBytes)
        {
            return (null, retryAfter);
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await PurgeEndedHoursAsync(connection, hour, cancellationToken);

        // One statement: the row is locked while its sum is checked and raised, so nodes taking at once cannot both
        // see room for the last post; when the sum would pass the budget, nothing changes and no row comes back.
        await using var take = new NpgsqlCommand("""
            INSERT INTO intake_hours AS h (hour, posts, bytes) VALUES (@Hour, @Posts, @Bytes)
            ON CONFLICT (hour) DO UPDATE SET posts = h.posts + excluded.posts, bytes = h.bytes + excluded.bytes
                WHERE h.posts + excluded.posts <= @MaxPosts AND h.bytes + excluded.bytes <= @MaxBytes
            RETURNING h.hour
            """, connection);
        take.Parameters.AddWithValue("Hour", hour);
        take.Parameters.AddWithValue("Posts", posts);
        take.Parameters.AddWithValue("Bytes", bytes);
        take.Parameters.AddWithValue("MaxPosts", maxPosts);
        take.Parameters.AddWithValue("MaxBytes", maxBytes);
        return await take.ExecuteScalarAsync(cancellationToken) is null ? (null, retryAfter) : (hour, TimeSpan.Zero);
    }

    /// <summary>Gives back what a post took in <paramref name="hour"/> when nothing of it was kept; an hour already over is left as it is.</summary>
    public void Refund(DateTimeOffset hour, long posts, long bytes)
    {
        if (posts == 0 && bytes == 0)
        {
            return;
        }

        // Synchronous: a ticket is disposed on every way out of a post, exceptions included.
        using var connection = dataSource.OpenConnection();
        using var refund = new NpgsqlCommand("UPDATE intake_hours SET posts = greatest(0, posts - @Posts), bytes = greatest(0, bytes - @Bytes) WHERE hour = @Hour", connection);
        refund.Parameters.AddWithValue("Hour", hour);
        refund.Parameters.AddWithValue("Posts", posts);
        refund.Parameters.AddWithValue("Bytes", bytes);
        refund.ExecuteNonQuery();
    }

    /// <summary>Removes the rows of hours that are over, once per hour per node; any node's removal serves all of them.</summary>
    private async Task PurgeEndedHoursAsync(NpgsqlConnection connection, DateTimeOffset hour, CancellationToken cancellationToken)
    {
        var purgedBefore = Interlocked.Read(ref _purgedBeforeTicks);
        if (hour.UtcTicks <= purgedBefore || Interlocked.CompareExchange(ref _purgedBeforeTicks, hour.UtcTicks, purgedBefore) != purgedBefore)
        {
            return;
        }

        await using var purge = new NpgsqlCommand("DELETE FROM intake_hours WHERE hour < @Hour", connection);
        purge.Parameters.AddWithValue("Hour", hour);
        await purge.ExecuteNonQueryAsync(cancellationToken);
    }
}
