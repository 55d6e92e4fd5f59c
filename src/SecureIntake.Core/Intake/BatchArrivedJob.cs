using Microsoft.Extensions.Logging;
using Npgsql;
using SecureIntake.Core.Blobs;
using SecureIntake.Core.Storage;

namespace SecureIntake.Core.Intake;

/// <summary>
/// The triage job every committed batch gets, in the same transaction as its rows. It checks that every
/// blob the rows name is on disk at the recorded size, so storage damage is noticed right away rather
/// than when an editor opens the item; editor notifications hang off this job. Its arguments are ids only.
/// The queue may deliver it twice (a worker on any node killed mid-job): the first run that completes records
/// the batch in triage_checks, and a later delivery finds that row and does nothing.
/// </summary>
public sealed partial class BatchArrivedJob(NpgsqlDataSource dataSource, BlobStore blobs, ILogger<BatchArrivedJob> logger)
{
    public async Task RunAsync(Guid submissionId, Guid batchId, CancellationToken cancellationToken)
    {
        if (await dataSource.ScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM triage_checks WHERE batch_id = @Batch)", new { Batch = batchId },
            cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        var items = await dataSource.QueryAsync<StoredItem>("""
            SELECT COALESCE(blob_id, id) AS Id, ciphertext_bytes AS CiphertextBytes FROM submission_items WHERE submission_id = @Submission AND batch_id = @Batch
            """, new { Submission = submissionId, Batch = batchId }, cancellationToken).ConfigureAwait(false);
        foreach (var item in items)
        {
            if (blobs.Length(item.Id) != item.CiphertextBytes)
            {
                LogDamaged(logger, submissionId, item.Id);
                throw new InvalidOperationException($"item {item.Id} of submission {submissionId} is missing or damaged on disk");
            }
        }

        // A submission deleted meanwhile has nothing left to check, and its row would dangle.
        await dataSource.ExecuteAsync("""
            INSERT INTO triage_checks (batch_id, submission_id) SELECT @Batch, id FROM submissions WHERE id = @Submission
            ON CONFLICT (batch_id) DO NOTHING
            """, new { Submission = submissionId, Batch = batchId }, cancellationToken).ConfigureAwait(false);

        // Deliberately no log line for a healthy batch: with its timestamp it would record when a witness wrote.
    }

    private sealed record StoredItem(Guid Id, long CiphertextBytes);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Item {ItemId} of submission {SubmissionId} is missing or has the wrong size on disk")]
    private static partial void LogDamaged(ILogger logger, Guid submissionId, Guid itemId);
}
