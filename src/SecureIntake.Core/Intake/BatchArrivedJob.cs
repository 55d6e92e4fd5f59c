using Microsoft.Extensions.Logging;
using Npgsql;
using SecureIntake.Core.Blobs;

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
        await using var command = dataSource.CreateCommand("SELECT id, ciphertext_bytes FROM submission_items WHERE submission_id = @submission AND batch_id = @batch");
        command.Parameters.AddWithValue("submission", submissionId);
        command.Parameters.AddWithValue("batch", batchId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var items = 0;
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            items++;
            var id = reader.GetGuid(0);
            if (blobs.Length(id) != reader.GetInt64(1))
            {
                LogDamaged(logger, submissionId, id);
                throw new InvalidOperationException($"item {id} of submission {submissionId} is missing or damaged on disk");
            }
        }

        LogArrived(logger, submissionId, items);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Submission {SubmissionId} has {Items} new encrypted items for triage")]
    private static partial void LogArrived(ILogger logger, Guid submissionId, int items);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Item {ItemId} of submission {SubmissionId} is missing or has the wrong size on disk")]
    private static partial void LogDamaged(ILogger logger, Guid submissionId, Guid itemId);
}
