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
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var id = reader.GetGuid(0);
            if (blobs.Length(id) != reader.GetInt64(1))
            {
                LogDamaged(logger, submissionId, id);
                throw new InvalidOperationException($"item {id} of submission {submissionId} is missing or damaged on disk");
            }
        }

        // Deliberately no log line for a healthy batch: with its timestamp it would record when a witness wrote.
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "Item {ItemId} of submission {SubmissionId} is missing or has the wrong size on disk")]
    private static partial void LogDamaged(ILogger logger, Guid submissionId, Guid itemId);
}
