using Microsoft.Extensions.Options;

namespace SecureIntake.Web.Witness.Admission;

/// <summary>
/// Decides whether a witness's post, once its form token is verified, may be taken in now. Nothing that costs
/// the server anything (a slot, a blob, disk room, an Argon2 hash) is spent before this; nothing here looks
/// at who is asking. In order: one of the token's posts, a post of the hour's budget, then one of the slots,
/// waited for a bounded while. Every busy refusal says when to try again. A post that is not kept gives all
/// of it back, so a refused, broken or abandoned post spends neither the witness's token nor the budget.
/// </summary>
internal sealed class IntakeAdmission : IDisposable
{
    private readonly IntakeLimits _limits;
    private readonly TimeProvider _clock;
    private readonly SemaphoreSlim _slots;

    // Posts per token nonce, kept or in progress. An entry lives while a post of its token is in progress or
    // one was kept, so there are at most (posts in progress) + HourlyPosts x FormTokenHours of them, however
    // many tokens anyone asks for.
    private readonly Lock _tokenLock = new();
    private readonly Dictionary<string, TokenUse> _tokenUses = new(StringComparer.Ordinal);
    private DateTimeOffset _nextPurge;

    public IntakeAdmission(IOptions<IntakeLimits> limits, TimeProvider clock)
    {
        _limits = limits.Value;
        _clock = clock;
        _slots = new SemaphoreSlim(_limits.MaxConcurrentSubmissions);
        Budget = new HourlyBudget(_limits.HourlyPosts, _limits.HourlyBytes, clock);
    }

    internal HourlyBudget Budget { get; }

    /// <summary>The post's ticket, holding a slot until disposed; refused with the busy or expired-form problem.</summary>
    public async Task<AdmissionTicket> AdmitAsync(FormToken token, CancellationToken cancellationToken)
    {
        var ticket = new AdmissionTicket(this, token.Nonce);
        try
        {
            if (!TryUseToken(token))
            {
                throw new SubmissionRejectedException(SubmissionProblem.CrossSite);
            }

            ticket.HoldsTokenUse = true;
            ticket.PostMinute = Budget.TryTakePost(out var retryAfter) ?? throw new SubmissionRejectedException(SubmissionProblem.Busy, retryAfter);
            if (!await _slots.WaitAsync(TimeSpan.FromSeconds(_limits.AdmissionWaitSeconds), cancellationToken))
            {
                throw new SubmissionRejectedException(SubmissionProblem.Busy, TimeSpan.FromMinutes(1));
            }

            ticket.HoldsSlot = true;
            return ticket;
        }
        catch
        {
            ticket.Dispose();
            throw;
        }
    }

    public void Dispose() => _slots.Dispose();

    internal void ReleaseSlot() => _slots.Release();

    internal void ReleaseTokenUse(string nonce)
    {
        lock (_tokenLock)
        {
            if (_tokenUses.TryGetValue(nonce, out var use) && --use.Posts <= 0)
            {
                _tokenUses.Remove(nonce);
            }
        }
    }

    private bool TryUseToken(FormToken token)
    {
        lock (_tokenLock)
        {
            PurgeExpired();
            if (!_tokenUses.TryGetValue(token.Nonce, out var use))
            {
                _tokenUses[token.Nonce] = use = new TokenUse(token.Expires);
            }

            if (use.Posts >= _limits.PostsPerFormToken)
            {
                return false;
            }

            use.Posts++;
            return true;
        }
    }

    private void PurgeExpired()
    {
        var now = _clock.GetUtcNow();
        if (now < _nextPurge)
        {
            return;
        }

        _nextPurge = now.AddMinutes(1);
        foreach (var (nonce, use) in _tokenUses)
        {
            if (use.Expires < now)
            {
                _tokenUses.Remove(nonce);
            }
        }
    }

    private sealed class TokenUse(DateTimeOffset expires)
    {
        public DateTimeOffset Expires { get; } = expires;

        public int Posts { get; set; }
    }
}
