using System.Diagnostics;

namespace SecureIntake.Mail.Ingest;

/// <summary>The parts of a group commit whose time the gateway adds up, so that the next bottleneck shows.</summary>
public enum GatewayPhase
{
    /// <summary>The FETCH command, with the encryption of its messages overlapping it on other cores.</summary>
    Fetch,

    /// <summary>Part of the FETCH: waiting, with a message read, for an encryption thread to take it.</summary>
    EncryptionSlotWait,

    /// <summary>A batch's last messages still encrypting after its FETCH was read; it overlaps the next batch's fetch.</summary>
    EncryptAndWrite,

    /// <summary>Making a batch's blobs durable; it overlaps the next batch's fetch.</summary>
    Fsync,

    /// <summary>A batch's transaction (and its lookup of copies); it overlaps the next batch's fetch.</summary>
    Commit,

    /// <summary>Waiting, before a fetch, for the batch before last to be committed (and after the last fetch, for the rest).</summary>
    CommitWait,

    /// <summary>Removing committed messages from the server (flag and expunge, or move); it overlaps the fetches but the last.</summary>
    Expunge,

    /// <summary>Waiting for the previous removal to end before the next one starts.</summary>
    RemovalWait,
}

/// <summary>Where a crash test may stop a batch.</summary>
internal enum BatchStep
{
    /// <summary>One message of the batch is encrypted into its blobs, while others may still be (reached once a message).</summary>
    MessageEncrypted,

    /// <summary>Every blob of the batch is on disk; nothing is committed.</summary>
    BlobsDurable,

    /// <summary>The batch is committed; nothing is removed from the server.</summary>
    Committed,

    /// <summary>The batch's messages are flagged \Deleted on the server, not yet expunged (the removal half done).</summary>
    Flagged,

    /// <summary>The server removed the batch's messages; their ledger rows are still there.</summary>
    Removed,
}

/// <summary>
/// Time spent in each phase over the process's life, for the benchmark: totals only, never per message, and never
/// logged (with a clock next to it, a per-message figure would say when a witness wrote).
/// </summary>
public sealed class GatewayMeter
{
    private readonly long[] _ticks = new long[Enum.GetValues<GatewayPhase>().Length];
    private long _messages;
    private long _encryptionWork;

    public long Messages => Interlocked.Read(ref _messages);

    /// <summary>Adds to a phase and returns the timestamp now, where the next phase starts.</summary>
    public long Add(GatewayPhase phase, long elapsedTicks)
    {
        Interlocked.Add(ref _ticks[(int)phase], elapsedTicks);
        return Stopwatch.GetTimestamp();
    }

    /// <summary>Time spent encrypting on all threads together: more than the wall time when it overlaps.</summary>
    public TimeSpan EncryptionWork => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _encryptionWork));

    public void AddEncryptionWork(long elapsedTicks) => Interlocked.Add(ref _encryptionWork, elapsedTicks);

    public void CountMessages(int count) => Interlocked.Add(ref _messages, count);

    public TimeSpan Total(GatewayPhase phase) => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _ticks[(int)phase]));

    public void Reset()
    {
        for (var i = 0; i < _ticks.Length; i++)
        {
            Interlocked.Exchange(ref _ticks[i], 0);
        }

        Interlocked.Exchange(ref _messages, 0);
        Interlocked.Exchange(ref _encryptionWork, 0);
    }
}
