using Microsoft.Extensions.Options;
using Npgsql;

namespace SecureIntake.Web.Witness.Admission;

/// <summary>
/// Decides whether a witness's post, once its form token is verified, may be taken in now. Nothing that costs
/// the server anything (a slot, a blob, disk room, an Argon2 hash) is spent before this; nothing here looks
/// at who is asking. In order: one of the token's posts, a post of the hour's budget, then one of the slots,
/// waited for a bounded while. Every busy refusal says when to try again. A post that is not kept gives all
/// of it back, so a refused, broken or abandoned post spends neither the witness's token nor the budget.
/// A token's posts and the hour's budget are counted in PostgreSQL for every web node together; slots are this
/// process's own (they bound its memory and connections, not what is stored).
/// </summary>
internal sealed class IntakeAdmission : IDisposable
{
    private readonly IntakeLimits _limits;
    private readonly TimeProvider _clock;
    private readonly NpgsqlDataSource _dataSource;
    private readonly SemaphoreSlim _slots;
    private long _nextPurgeTicks;

    public IntakeAdmission(IOptions<IntakeLimits> limits, TimeProvider clock, NpgsqlDataSource dataSource)
    {
        _limits = limits.Value;
        _clock = clock;
        _dataSource = dataSource;
        _slots = new SemaphoreSlim(_limits.MaxConcurrentSubmissions);
        Budget = new HourlyBudget(_limits.HourlyPosts, _limits.HourlyBytes, dataSource, clock);
    }

    internal HourlyBudget Budget { get; }

    /// <summary>The post's ticket, holding a slot until disposed; refused with the busy or expired-form problem.</summary>
    public async Task<AdmissionTicket> AdmitAsync(FormToken token, CancellationToken cancellationToken)
    {
        var ticket = new AdmissionTicket(this, token.Nonce);
        try
        {
            if (!await TryUseTokenAsync(token, cancellationToken))
            {
                throw new SubmissionRejectedException(SubmissionProblem.CrossSite);
            }

            ticket.HoldsTokenUse = true;
            var (hour, retryAfter) = await Budget.TryTakeAsync(posts: 1, bytes: 0, cancellationToken);
            ticket.PostHour = hour ?? throw new SubmissionRejectedException(SubmissionProblem.Busy, retryAfter);
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

    /// <summary>Gives one of the token's posts back (its post was not kept); the row goes once none is left.</summary>
    internal void ReleaseTokenUse(string nonce)
    {
        // Synchronous: a ticket is disposed on every way out of a post, exceptions included.
        using var connection = _dataSource.OpenConnection();
        using var command = new NpgsqlCommand("""
            WITH released AS (UPDATE form_token_posts SET posts = posts - 1 WHERE nonce = @Nonce AND posts > 0 RETURNING nonce, posts)
            DELETE FROM form_token_posts f USING released r WHERE f.nonce = r.nonce AND r.posts = 0
            """, connection);
        command.Parameters.AddWithValue("Nonce", nonce);
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// Counts a post of the token for every web node together, so that a form re-sent to another node behind the
    /// same onion service is refused as one re-sent to this node is; false when its posts are used up.
    /// </summary>
    private async Task<bool> TryUseTokenAsync(FormToken token, CancellationToken cancellationToken)
    {
        var now = _clock.GetUtcNow();
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        var nextPurge = Interlocked.Read(ref _nextPurgeTicks);
        if (now.UtcTicks >= nextPurge && Interlocked.CompareExchange(ref _nextPurgeTicks, now.AddMinutes(1).UtcTicks, nextPurge) == nextPurge)
        {
            await using var purge = new NpgsqlCommand("DELETE FROM form_token_posts WHERE expires_at < @Now", connection);
            purge.Parameters.AddWithValue("Now", now);
            await purge.ExecuteNonQueryAsync(cancellationToken);
        }

        // The row must outlive the token; rounded up to the hour, it does not say when the form was opened.
        await using var use = new NpgsqlCommand("""
            INSERT INTO form_token_posts (nonce, posts, expires_at) VALUES (@Nonce, 1, date_trunc('hour', @Expires + interval '1 hour' - interval '1 microsecond'))
            ON CONFLICT (nonce) DO UPDATE SET posts = form_token_posts.posts + 1 WHERE form_token_posts.posts < @Max
            """, connection);
        use.Parameters.AddWithValue("Nonce", token.Nonce);
        use.Parameters.AddWithValue("Expires", token.Expires);
        use.Parameters.AddWithValue("Max", _limits.PostsPerFormToken);
        return await use.ExecuteNonQueryAsync(cancellationToken) == 1;
    }
}
