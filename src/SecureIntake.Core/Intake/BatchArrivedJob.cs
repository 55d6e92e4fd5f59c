using Microsoft.Extensions.Logging;
using Npgsql;
using SecureIntake.Core.Blobs;
using SecureIntake.Core.Storage;

namespace SecureIntake.Core.Intake;

/// <summary>
/// The triage job every committed batch gets, in the same transaction as its rows. It checks that every
/// blob the rows name is on disk at the recorded size, so storage damage is noticed right away rather
/// than when an editor opens the item; editor notifications hang off this job. Safe to run twice;
/// its arguments are ids only.
/// </summary>
public sealed partial class BatchArrivedJob(NpgsqlDataSource dataSource, BlobStore blobs, ILogger<BatchArrivedJob> logger)
{
    public async Task RunAsync(Guid submissionId, Guid batchId, CancellationToken cancellationToken)
    {
        var items = await dataSource.QueryAsync<StoredItem>("""
            SELECT id AS Id, ciphertext_bytes AS CiphertextBytes FROM submission_items WHERE submission_id = @Submission AND batch_id = @Batch
            """, new { Submission = submissionId, Batch = batchId }, cancellationToken).ConfigureAwait(false);
        foreach (var item in items)
        {
            if (blobs.Length(item.Id) != item.CiphertextBytes)
            {
                LogDamaged(logger, submissionId, item.Id);
                throw new InvalidOperationException($"item {item.Id} of submission {submissionId} is missing or damaged on disk");
            }
        }

        // Deliberately no log line for a healthy batch: with its timestamp it would record when a witness wrote.
    }

    private sealed record StoredItem(Guid Id, long CiphertextBytes);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Item {ItemId} of submission {SubmissionId} is missing or has the wrong size on disk")]
    private static partial void LogDamaged(ILogger logger, Guid submissionId, Guid itemId);
}
