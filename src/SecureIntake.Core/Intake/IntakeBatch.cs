using SecureIntake.Core.Blobs;
using SecureIntake.Crypto.Keys;

namespace SecureIntake.Core.Intake;

/// <summary>
/// A group commit of new submissions on one desk (the mail gateway's batch of emails): each submission's items are
/// encrypted into blobs as they arrive, then every blob of the batch is made durable together (one fsync per file,
/// one per directory), then ONE transaction takes all their rows, ledger rows and triage jobs. Either every
/// submission of the batch is committed or none is; disposed without a commit, it deletes every blob it wrote,
/// and after a crash the blobs no row names are orphans the sweep removes.
/// </summary>
public sealed class IntakeBatch : IAsyncDisposable
{
    private readonly SubmissionWriter _writer;
    private readonly BlobStore _blobs;
    private readonly IReadOnlyList<RecipientKey> _keys;
    private readonly Guid _deskId;
    private readonly string _channel;
    private readonly List<SubmissionDraft> _drafts = [];
    private readonly List<(MailOrigin Origin, Guid SubmissionId)> _copies = [];
    private readonly Lock _draftsLock = new(); // submissions are started and discarded from several encrypting threads at once
    private bool _committed;

    internal IntakeBatch(SubmissionWriter writer, BlobStore blobs, IReadOnlyList<RecipientKey> keys, Guid deskId, string channel)
    {
        _writer = writer;
        _blobs = blobs;
        _keys = keys;
        _deskId = deskId;
        _channel = channel;
    }

    /// <summary>The submissions in the batch, in the order they were started.</summary>
    public int Count => _drafts.Count;

    /// <summary>Whether every blob of the batch is on disk (file and name), so its rows may be committed.</summary>
    public bool IsDurable => _drafts.All(d => d.Held.All(b => b.IsDurable));

    /// <summary>
    /// A new submission in this batch; refused when the disk is already at Storage:MinimumFreeBytes. Safe to call from
    /// several threads, each filling its own submission.
    /// </summary>
    /// <exception cref="IntakeRefusedException">No room (<see cref="IntakeRefusal.NoRoom"/>).</exception>
    public SubmissionDraft Start()
    {
        ObjectDisposedException.ThrowIf(_committed, this);
        if (!_blobs.HasRoomToStart)
        {
            throw new IntakeRefusedException(IntakeRefusal.NoRoom, "free disk space is below Storage:MinimumFreeBytes");
        }

        var draft = new SubmissionDraft(_writer, _blobs, _keys, new SubmissionTarget(Guid.NewGuid(), _deskId, _channel, IsNew: true), durableLater: true);
        lock (_draftsLock)
        {
            _drafts.Add(draft);
        }

        return draft;
    }

    /// <summary>Takes a submission out of the batch again and deletes what it wrote (a copy of a message already in).</summary>
    public async Task DiscardAsync(SubmissionDraft draft)
    {
        ArgumentNullException.ThrowIfNull(draft);
        bool removed;
        lock (_draftsLock)
        {
            removed = _drafts.Remove(draft);
        }

        if (!removed)
        {
            throw new InvalidOperationException("the draft is not part of this batch");
        }

        await draft.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>The id the submission of <paramref name="draft"/> gets once committed.</summary>
    public static Guid SubmissionIdOf(SubmissionDraft draft) => (draft ?? throw new ArgumentNullException(nameof(draft))).Target.SubmissionId;

    /// <summary>
    /// Records in the batch's transaction that the message at <paramref name="origin"/> is a copy of one already
    /// stored as <paramref name="submissionId"/> (in this batch or before): its ledger row lets the next pass remove
    /// it after a crash instead of taking it in.
    /// </summary>
    public void RecordCopy(MailOrigin origin, Guid submissionId)
    {
        ArgumentNullException.ThrowIfNull(origin);
        ObjectDisposedException.ThrowIf(_committed, this);
        _copies.Add((origin, submissionId));
    }

    /// <summary>
    /// Adds the encrypted manifest of each submission that needs one (an email does not: see
    /// <see cref="SubmissionDraft.NeedsManifest"/>), still only sealed, not yet durable, on every core: each manifest costs a
    /// public-key encryption per recipient, and the drafts share nothing.
    /// </summary>
    public Task AddManifestsAsync(CancellationToken cancellationToken) =>
        Parallel.ForEachAsync(_drafts.Where(d => d.NeedsManifest && !d.HasManifest).ToList(),
            new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = cancellationToken },
            async (draft, token) => await draft.AddManifestAsync(token).ConfigureAwait(false));

    /// <summary>Fsyncs every blob of the batch, then each directory once.</summary>
    public Task MakeDurableAsync() => PendingBlob.MakeDurableAsync(_drafts.SelectMany(d => d.Held).ToList());

    /// <summary>
    /// Commits every submission of the batch, with the copies recorded, in one transaction; adds the manifests and makes
    /// the blobs durable first if the caller has not. Returns the submission ids in order, only once committed.
    /// </summary>
    public async Task<IReadOnlyList<Guid>> CommitAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_committed, this);
        await AddManifestsAsync(cancellationToken).ConfigureAwait(false);
        await MakeDurableAsync().ConfigureAwait(false);
        if (_drafts.Count == 0 && _copies.Count == 0)
        {
            _committed = true;
            return [];
        }

        try
        {
            await _writer.CommitBatchAsync(_drafts, _copies, _blobs, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The commit may have reached PostgreSQL even though its answer did not reach us.
            var committed = _drafts.Count == 0 ? null : await _writer.IsCommittedAsync(_drafts[0].BatchId).ConfigureAwait(false);
            if (committed != true)
            {
                if (committed is null)
                {
                    _drafts.ForEach(d => d.OutcomeUnknown()); // keep the blobs: the orphan sweep deletes them once no row names them
                }

                throw;
            }
        }

        _committed = true;
        foreach (var draft in _drafts)
        {
            await draft.CommittedAsync().ConfigureAwait(false);
        }

        return _drafts.Select(d => d.Target.SubmissionId).ToList();
    }

    public async ValueTask DisposeAsync()
    {
        var failures = new List<Exception>();
        foreach (var draft in _drafts)
        {
            try
            {
                await draft.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or AggregateException or UnauthorizedAccessException)
            {
                failures.Add(e);
            }
        }

        _drafts.Clear();
        if (failures.Count > 0)
        {
            throw new AggregateException("some blobs of the batch could not be removed", failures);
        }
    }
}
