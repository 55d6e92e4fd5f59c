using System.Collections.Concurrent;

namespace SecureIntake.Core.Editors;

/// <summary>
/// Remembers which period (a lock-out, or a minute for unknown names) already has its audit entry, so a flood
/// of refused sign-ins leaves one line per period instead of one per attempt. Kept in memory: each process
/// writes at most one entry per period, and the entries are keyed by account, so memory is bounded by them.
/// </summary>
internal sealed class SignInAuditThrottle
{
    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _loggedUntil = new();

    public static DateTimeOffset EndOfMinute(DateTimeOffset now) =>
        new DateTimeOffset(now.Ticks - (now.Ticks % TimeSpan.TicksPerMinute), now.Offset).AddMinutes(1);

    /// <summary>True for exactly one caller per key and period end, however many ask at once.</summary>
    public bool IsFirst(Guid key, DateTimeOffset periodEnd)
    {
        while (true)
        {
            if (!_loggedUntil.TryGetValue(key, out var logged))
            {
                if (_loggedUntil.TryAdd(key, periodEnd))
                {
                    return true;
                }
            }
            else if (logged >= periodEnd)
            {
                return false;
            }
            else if (_loggedUntil.TryUpdate(key, periodEnd, logged))
            {
                return true;
            }
        }
    }
}
