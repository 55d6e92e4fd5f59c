using Microsoft.Extensions.Logging;
using Npgsql;
using SecureIntake.Core.Blobs;
using SecureIntake.Core.Storage;

namespace SecureIntake.Core.Intake;

/// <summary>
/// The triage job every committed batch gets, in the same transaction as its rows. It checks that every
/// blob the rows name is on disk at the recorded size, so storage damage is noticed right away rather
/// than when an editor opens the item. Its arguments are ids only. A group commit (the mail gateway's
/// batch of emails) gets one job for all its batches: one enqueue instead of fifty in the transaction that
/// holds up the mailbox. The queue may deliver a job twice (a worker on any node killed mid-job): the first
/// run that completes a batch records it in triage_checks, and a later delivery skips every batch it finds there.
/// </summary>
public sealed partial class BatchArrivedJob(NpgsqlDataSource dataSource, BlobStore blobs, ILogger<BatchArrivedJob> logger)
{
    public Task RunAsync(Guid submissionId, Guid batchId, CancellationToken cancellationToken) =>
        RunManyAsync([submissionId], [batchId], cancellationToken);

    /// <summary>
    /// Checks batch <c>batchIds[i]</c> of submission <c>submissionIds[i]</c>, for each i. A damaged batch fails the job
    /// (Hangfire retries it) after every other batch was checked and recorded, so a retry looks only at the damaged ones.
    /// </summary>
    public async Task RunManyAsync(Guid[] submissionIds, Guid[] batchIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(submissionIds);
        ArgumentNullException.ThrowIfNull(batchIds);
        if (submissionIds.Length != batchIds.Length)
        {
            throw new ArgumentException("one submission id for each batch id", nameof(batchIds));
        }

        var items = await dataSource.QueryAsync<StoredItem>("""
            SELECT COALESCE(i.blob_id, i.id) AS BlobId, i.id AS Id, i.submission_id AS SubmissionId, i.batch_id AS BatchId, i.ciphertext_bytes AS CiphertextBytes
            FROM unnest(@Submissions, @Batches) AS b (submission_id, batch_id)
            JOIN submission_items i ON i.submission_id = b.submission_id AND i.batch_id = b.batch_id
            WHERE NOT EXISTS (SELECT 1 FROM triage_checks c WHERE c.batch_id = b.batch_id)
            """, new { Submissions = submissionIds, Batches = batchIds }, cancellationToken).ConfigureAwait(false);

        var damaged = items.Where(i => blobs.Length(i.BlobId) != i.CiphertextBytes).ToList();
        foreach (var item in damaged)
        {
            LogDamaged(logger, item.SubmissionId, item.Id);
        }

        // A submission deleted meanwhile has nothing left to check, and its row would dangle.
        var healthy = items.Select(i => i.BatchId).Except(damaged.Select(i => i.BatchId)).ToHashSet();
        await dataSource.ExecuteAsync("""
            INSERT INTO triage_checks (batch_id, submission_id)
            SELECT b.batch_id, s.id FROM unnest(@Submissions, @Batches) AS b (submission_id, batch_id) JOIN submissions s ON s.id = b.submission_id
            WHERE b.batch_id = ANY(@Healthy)
            ON CONFLICT (batch_id) DO NOTHING
            """, new { Submissions = submissionIds, Batches = batchIds, Healthy = healthy.ToArray() }, cancellationToken).ConfigureAwait(false);

        if (damaged.Count > 0)
        {
            throw new InvalidOperationException($"{damaged.Count} item(s) are missing or damaged on disk, first {damaged[0].Id} of submission {damaged[0].SubmissionId}");
        }

        // Deliberately no log line for a healthy batch: with its timestamp it would record when a witness wrote.
    }

    private sealed class StoredItem
    {
        /// <summary>The file the item's ciphertext is in: its own id, or the blob a grant rewrote it into.</summary>
        public Guid BlobId { get; init; }

        public Guid Id { get; init; }

        public Guid SubmissionId { get; init; }

        public Guid BatchId { get; init; }

        public long CiphertextBytes { get; init; }
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "Item {ItemId} of submission {SubmissionId} is missing or has the wrong size on disk")]
    private static partial void LogDamaged(ILogger logger, Guid submissionId, Guid itemId);
}
