using Microsoft.Extensions.Options;
using Npgsql;
using SecureIntake.Core.Codenames;
using SecureIntake.Core.Intake;

namespace SecureIntake.Web.Witness;

/// <summary>
/// Turns a typed codename into its submission, throttled without looking at who asks (all Tor users share
/// addresses): at most two checks run at once for all web nodes together, each costs a full Argon2id hash
/// whether or not the codename exists, and every answer takes at least <see cref="MinimumDuration"/>. The queue
/// in front of them is bounded per node (Intake:MaxWaitingCodenameChecks): beyond it the busy page, rather than a
/// wait that grows with whatever a guesser sends.
/// </summary>
internal sealed class CodenameCheck(Codenames codenames, IntakeService intake, IOptions<IntakeLimits> limits, TimeProvider clock, NpgsqlDataSource dataSource) : IDisposable
{
    public static readonly TimeSpan MinimumDuration = TimeSpan.FromSeconds(1);
    private const int RunningAtOnce = 2;

    // PostgreSQL advisory lock keys of the turns, one per check running at once; they only have to differ from
    // the other lock users (the migrator, notifications, the mail drain).
    private const long FirstTurnKey = 0x5345_4355_434f_4400; // "SECUCOD" and the turn's number

    private readonly SemaphoreSlim _running = new(RunningAtOnce);
    private readonly int _maxInLine = RunningAtOnce + limits.Value.MaxWaitingCodenameChecks;
    private int _inLine;
    private int _checking;

    private int _nextTurnToWaitFor;

    /// <summary>How many checks of this node hold a turn right now (hashing or looking up); never more than two for all nodes together.</summary>
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
        try
        {
            await using var turn = await TakeTurnAsync(cancellationToken);
            Interlocked.Increment(ref _checking);
            try
            {
                var secrets = await codenames.DeriveAsync(typed, cancellationToken);
                return await intake.FindByCodenameAsync(secrets.Locator, cancellationToken) is { } submissionId
                    ? new ThreadAccess(submissionId, secrets.UnlockKey)
                    : null;
            }
            finally
            {
                Interlocked.Decrement(ref _checking);
            }
        }
        catch (CodenameRejectedException)
        {
            return null;
        }
        finally
        {
            _running.Release();
            var left = MinimumDuration - clock.GetElapsedTime(started);
            if (left > TimeSpan.Zero)
            {
                await Task.Delay(left, clock, CancellationToken.None);
            }
        }
    }

    public void Dispose() => _running.Dispose();

    /// <summary>
    /// One of the two turns shared by every web node: a transaction holding that turn's advisory lock, so a turn is
    /// given back when the check ends and also when its node dies (PostgreSQL ends the lock with the connection).
    /// Nothing about the codename or the asker reaches the database. A free turn is taken at once; with none free the
    /// check waits for one, this node's two waiters each for a different one.
    /// </summary>
    private async Task<Turn> TakeTurnAsync(CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken);
            // CASE, not OR: its branches are tried in order, so a check never takes both turns.
            await using var free = new NpgsqlCommand(
                "SELECT CASE WHEN pg_try_advisory_xact_lock(@First) THEN true WHEN pg_try_advisory_xact_lock(@Second) THEN true ELSE false END",
                connection, transaction);
            free.Parameters.AddWithValue("First", FirstTurnKey);
            free.Parameters.AddWithValue("Second", FirstTurnKey + 1);
            if (await free.ExecuteScalarAsync(cancellationToken) is not true)
            {
                // As long as it takes (the asker's cancellation ends it): a wait in line is bounded by the checks ahead, not by a timeout.
                await using var wait = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@Turn)", connection, transaction) { CommandTimeout = 0 };
                wait.Parameters.AddWithValue("Turn", FirstTurnKey + ((Interlocked.Increment(ref _nextTurnToWaitFor) & int.MaxValue) % RunningAtOnce));
                await wait.ExecuteNonQueryAsync(cancellationToken);
            }

            return new Turn(connection, transaction);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }
}

/// <summary>A turn held: ending its transaction gives the turn back.</summary>
internal sealed class Turn(NpgsqlConnection connection, NpgsqlTransaction transaction) : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        await transaction.DisposeAsync();
        await connection.DisposeAsync();
    }
}

/// <summary>What a right codename opens: the thread, and the key to its replies (kept in memory only).</summary>
internal sealed record ThreadAccess(Guid SubmissionId, byte[] UnlockKey);
