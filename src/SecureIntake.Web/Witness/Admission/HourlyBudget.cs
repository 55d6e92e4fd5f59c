namespace SecureIntake.Web.Witness.Admission;

/// <summary>
/// How much the witness side takes in over the last hour, in one-minute buckets: posts admitted and bytes read.
/// It bounds how fast anyone, honest or not, can fill the disk towards its floor, so that editors have hours
/// to notice a flood rather than minutes. Reaching it refuses new posts with the busy page until the window
/// moves on; what is kept is untouched. A post that is not kept gives back what it took (<see cref="Refund"/>),
/// so only what is stored, or still arriving, spends it.
/// </summary>
internal sealed class HourlyBudget(long maxPosts, long maxBytes, TimeProvider clock)
{
    private const int Minutes = 60;

    private readonly Lock _lock = new();
    private readonly long[] _posts = new long[Minutes];
    private readonly long[] _bytes = new long[Minutes];
    private readonly long[] _bucketMinute = new long[Minutes];

    /// <summary>Counts one post in the current minute (returned), or says how long until the window has room for one.</summary>
    public long? TryTakePost(out TimeSpan retryAfter) => TryTake(_posts, 1, maxPosts, out retryAfter);

    /// <summary>Counts bytes as they arrive in the current minute (returned), or says how long until the window has room for them.</summary>
    public long? TryTakeBytes(long bytes, out TimeSpan retryAfter) => TryTake(_bytes, bytes, maxBytes, out retryAfter);

    /// <summary>Gives back what a post took in <paramref name="minute"/> when nothing of it was kept.</summary>
    public void Refund(long minute, long posts, long bytes)
    {
        lock (_lock)
        {
            var slot = (int)(minute % Minutes);
            if (_bucketMinute[slot] == minute)
            {
                _posts[slot] = Math.Max(0, _posts[slot] - posts);
                _bytes[slot] = Math.Max(0, _bytes[slot] - bytes);
            }
        }
    }

    private long? TryTake(long[] counts, long amount, long limit, out TimeSpan retryAfter)
    {
        lock (_lock)
        {
            var now = CurrentMinute();
            var total = 0L;
            var oldestUsed = long.MaxValue;
            for (var i = 0; i < Minutes; i++)
            {
                if (now - _bucketMinute[i] >= Minutes)
                {
                    continue;
                }

                total += counts[i];
                if (counts[i] > 0)
                {
                    oldestUsed = Math.Min(oldestUsed, _bucketMinute[i]);
                }
            }

            if (total + amount > limit)
            {
                // The oldest minute that holds anything leaves the window first; a lower bound, never zero.
                var minutes = oldestUsed == long.MaxValue ? 1 : Math.Max(1, oldestUsed + Minutes - now);
                retryAfter = TimeSpan.FromMinutes(minutes);
                return null;
            }

            var slot = (int)(now % Minutes);
            if (_bucketMinute[slot] != now)
            {
                _bucketMinute[slot] = now;
                _posts[slot] = 0;
                _bytes[slot] = 0;
            }

            counts[slot] += amount;
            retryAfter = TimeSpan.Zero;
            return now;
        }
    }

    private long CurrentMinute() => clock.GetUtcNow().ToUnixTimeSeconds() / 60;
}
