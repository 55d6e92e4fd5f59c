using Microsoft.Extensions.Logging;
using Npgsql;

namespace SecureIntake.Core.Blobs;

/// <summary>
/// The recurring job that removes blobs no item row names (a crash after the fsync and before the commit,
/// or a commit whose outcome was unknown). A blob is deleted only when it was already orphaned at a sweep
/// at least <see cref="Grace"/> earlier and still is: no row means no submission was acknowledged for it.
/// A blob its writer still holds (an upload still arriving, however slowly, or a draft not yet committed)
/// is left alone whatever its age. Safe to run twice and concurrently with intake.
/// </summary>
public sealed partial class OrphanBlobSweep(BlobStore blobs, NpgsqlDataSource dataSource, TimeProvider clock, ILogger<OrphanBlobSweep> logger)
{
    /// <summary>
    /// Far longer than a commit takes once its blobs are closed (a note or reply closes its blob just before
    /// committing). Uploads still arriving are not timed by it: their writers hold them.
    /// </summary>
    public static readonly TimeSpan Grace = TimeSpan.FromHours(24);

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var onDisk = blobs.List().ToArray();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);

        var orphans = new HashSet<Guid>(onDisk);
        await using (var known = new NpgsqlCommand("SELECT id FROM submission_items WHERE id = ANY(@ids)", connection))
        {
            known.Parameters.AddWithValue("ids", onDisk);
            await using var reader = await known.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                orphans.Remove(reader.GetGuid(0));
            }
        }

        var due = new List<Guid>();
        await using (var candidates = new NpgsqlCommand("SELECT blob_id, first_seen FROM orphan_blob_candidates", connection))
        await using (var reader = await candidates.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                if (orphans.Contains(reader.GetGuid(0)) && now - reader.GetFieldValue<DateTimeOffset>(1) >= Grace)
                {
                    due.Add(reader.GetGuid(0));
                }
            }
        }

        var deleted = await blobs.DeleteUnlessHeldAsync(due, async locked =>
        {
            var orphaned = new HashSet<Guid>(locked);
            await using var recheck = new NpgsqlCommand("SELECT id FROM submission_items WHERE id = ANY(@ids)", connection);
            recheck.Parameters.AddWithValue("ids", locked.ToArray());
            await using var reader = await recheck.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                orphaned.Remove(reader.GetGuid(0));
            }

            return orphaned;
        }).ConfigureAwait(false);

        // Forget candidates that were deleted, committed meanwhile or vanished; remember new orphans and held ones.
        await using (var forget = new NpgsqlCommand("DELETE FROM orphan_blob_candidates WHERE NOT (blob_id = ANY(@orphans)) OR blob_id = ANY(@deleted)", connection))
        {
            forget.Parameters.AddWithValue("orphans", orphans.ToArray());
            forget.Parameters.AddWithValue("deleted", deleted.ToArray());
            await forget.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await using (var remember = new NpgsqlCommand("""
            INSERT INTO orphan_blob_candidates (blob_id, first_seen) SELECT unnest(@ids), @now ON CONFLICT (blob_id) DO NOTHING
            """, connection))
        {
            remember.Parameters.AddWithValue("ids", orphans.Except(deleted).ToArray());
            remember.Parameters.AddWithValue("now", now);
            await remember.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        if (deleted.Count > 0)
        {
            LogSwept(logger, deleted.Count);
        }

        return deleted.Count;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Deleted {Count} orphaned encrypted blobs left by interrupted submissions")]
    private static partial void LogSwept(ILogger logger, int count);
}
