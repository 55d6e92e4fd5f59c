using Microsoft.Extensions.Options;
using SecureIntake.Core.Codenames;
using SecureIntake.Core.Intake;

namespace SecureIntake.Web.Witness;

/// <summary>
/// Turns a typed codename into its submission, throttled without looking at who asks (all Tor users share
/// addresses): at most two checks run at once server-wide, each costs a full Argon2id hash whether or not
/// the codename exists, and every answer takes at least <see cref="MinimumDuration"/>. The queue in front of
/// them is bounded (Intake:MaxWaitingCodenameChecks): beyond it the busy page, rather than a wait that grows
/// with whatever a guesser sends.
/// </summary>
internal sealed class CodenameCheck(Codenames codenames, IntakeService intake, IOptions<IntakeLimits> limits, TimeProvider clock) : IDisposable
{
    public static readonly TimeSpan MinimumDuration = TimeSpan.FromSeconds(1);
    private const int RunningAtOnce = 2;

    private readonly SemaphoreSlim _running = new(RunningAtOnce);
    private readonly int _maxInLine = RunningAtOnce + limits.Value.MaxWaitingCodenameChecks;
    private int _inLine;
    private int _checking;

    /// <summary>How many checks hold a place right now (hashing or looking up); never more than two.</summary>
    internal int Checking => Volatile.Read(ref _checking);

    /// <summary>The thread a codename opens, or null; refused with the busy problem when too many are waiting.</summary>
    public async Task<ThreadAccess?> FindAsync(string typed, CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _inLine) > _maxInLine)
        {
            Interlocked.Decrement(ref _inLine);
            throw new SubmissionRejectedException(SubmissionProblem.Busy, TimeSpan.FromMinutes(1));
        }

        try
        {
            return await CheckAsync(typed, cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _inLine);
        }
    }

    private async Task<ThreadAccess?> CheckAsync(string typed, CancellationToken cancellationToken)
    {
        var started = clock.GetTimestamp();
        await _running.WaitAsync(cancellationToken);
        Interlocked.Increment(ref _checking);
        try
        {
            var secrets = await codenames.DeriveAsync(typed, cancellationToken);
            return await intake.FindByCodenameAsync(secrets.Locator, cancellationToken) is { } submissionId
                ? new ThreadAccess(submissionId, secrets.UnlockKey)
                : null;
        }
        catch (CodenameRejectedException)
        {
            return null;
        }
        finally
        {
            Interlocked.Decrement(ref _checking);
            _running.Release();
            var left = MinimumDuration - clock.GetElapsedTime(started);
            if (left > TimeSpan.Zero)
            {
                await Task.Delay(left, clock, CancellationToken.None);
            }
        }
    }

    public void Dispose() => _running.Dispose();
}

/// <summary>What a right codename opens: the thread, and the key to its replies (kept in memory only).</summary>
internal sealed record ThreadAccess(Guid SubmissionId, byte[] UnlockKey);
