using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace SecureIntake.Web.Witness.Admission;

/// <summary>
/// Decides whether a witness's post, once its form token is verified, may be taken in now. Nothing that costs
/// the server anything (a slot, a blob, disk room, an Argon2 hash) is spent before this; nothing here looks
/// at who is asking. In order: the token's own count of posts, the hour's budget (a post), then one of the
/// slots, waited for a bounded while. Every busy refusal says when to try again.
/// </summary>
internal sealed class IntakeAdmission : IDisposable
{
    private readonly IntakeLimits _limits;
    private readonly TimeProvider _clock;
    private readonly SemaphoreSlim _slots;
    private readonly HourlyBudget _budget;

    // Posts per token nonce. Entries are added only for posts the budget admitted, so it holds at most
    // HourlyPosts x FormTokenHours of them however many tokens anyone asks for.
    private readonly ConcurrentDictionary<string, TokenUse> _tokenUses = new(StringComparer.Ordinal);
    private long _nextPurge;

    public IntakeAdmission(IOptions<IntakeLimits> limits, TimeProvider clock)
    {
        _limits = limits.Value;
        _clock = clock;
        _slots = new SemaphoreSlim(_limits.MaxConcurrentSubmissions);
        _budget = new HourlyBudget(_limits.HourlyPosts, _limits.HourlyBytes, clock);
    }

    /// <summary>A slot for the post, to dispose when it is done; refused with the busy or expired-form problem.</summary>
    public async Task<IDisposable> AdmitAsync(FormToken token, CancellationToken cancellationToken)
    {
        // A token already used up is refused before it can spend the hour's budget: replaying one page costs us nothing.
        if (_tokenUses.TryGetValue(token.Nonce, out var used) && Volatile.Read(ref used.Posts) >= _limits.PostsPerFormToken)
        {
            throw new SubmissionRejectedException(SubmissionProblem.CrossSite);
        }

        if (!_budget.TryTakePost(out var retryAfter))
        {
            throw new SubmissionRejectedException(SubmissionProblem.Busy, retryAfter);
        }

        if (!TryUse(token))
        {
            throw new SubmissionRejectedException(SubmissionProblem.CrossSite);
        }

        if (!await _slots.WaitAsync(TimeSpan.FromSeconds(_limits.AdmissionWaitSeconds), cancellationToken))
        {
            throw new SubmissionRejectedException(SubmissionProblem.Busy, TimeSpan.FromMinutes(1));
        }

        return new Slot(_slots);
    }

    /// <summary>Counts bytes of an admitted post as they arrive; refused with the busy problem past the hour's budget.</summary>
    public void TakeBytes(long bytes)
    {
        if (!_budget.TryTakeBytes(bytes, out var retryAfter))
        {
            throw new SubmissionRejectedException(SubmissionProblem.Busy, retryAfter);
        }
    }

    public void Dispose() => _slots.Dispose();

    private bool TryUse(FormToken token)
    {
        PurgeExpired();
        var use = _tokenUses.GetOrAdd(token.Nonce, _ => new TokenUse(token.Expires));
        return Interlocked.Increment(ref use.Posts) <= _limits.PostsPerFormToken;
    }

    private void PurgeExpired()
    {
        var now = _clock.GetUtcNow();
        var due = Interlocked.Read(ref _nextPurge);
        if (now.UtcTicks < due || Interlocked.CompareExchange(ref _nextPurge, now.AddMinutes(1).UtcTicks, due) != due)
        {
            return;
        }

        foreach (var (nonce, use) in _tokenUses)
        {
            if (use.Expires < now)
            {
                _tokenUses.TryRemove(nonce, out _);
            }
        }
    }

    private sealed class TokenUse(DateTimeOffset expires)
    {
#pragma warning disable SA1401 // a field, for Interlocked
        public int Posts;
#pragma warning restore SA1401

        public DateTimeOffset Expires { get; } = expires;
    }

    private sealed class Slot(SemaphoreSlim slots) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                slots.Release();
            }
        }
    }
}
