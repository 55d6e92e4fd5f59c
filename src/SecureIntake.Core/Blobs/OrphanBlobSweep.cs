using Microsoft.Extensions.Logging;
using Npgsql;
using SecureIntake.Core.Storage;

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
        orphans.ExceptWith(await connection.QueryAsync<Guid>("SELECT COALESCE(blob_id, id) FROM submission_items WHERE id = ANY(@Ids) OR blob_id = ANY(@Ids)", new { Ids = onDisk }, null, cancellationToken)
            .ConfigureAwait(false));

        var due = (await connection.QueryAsync<OrphanCandidate>("SELECT blob_id AS BlobId, first_seen AS FirstSeen FROM orphan_blob_candidates", null, null,
            cancellationToken).ConfigureAwait(false))
            .Where(candidate => orphans.Contains(candidate.BlobId) && now - candidate.FirstSeen >= Grace)
            .Select(candidate => candidate.BlobId)
            .ToList();

        var deleted = await blobs.DeleteUnlessHeldAsync(due, async locked =>
        {
            var orphaned = new HashSet<Guid>(locked);
            orphaned.ExceptWith(await connection.QueryAsync<Guid>("SELECT COALESCE(blob_id, id) FROM submission_items WHERE id = ANY(@Ids) OR blob_id = ANY(@Ids)", new { Ids = locked.ToArray() }, null,
                cancellationToken).ConfigureAwait(false));
            return orphaned;
        }).ConfigureAwait(false);

        // Forget candidates that were deleted, committed meanwhile or vanished; remember new orphans and held ones.
        await connection.ExecuteAsync("DELETE FROM orphan_blob_candidates WHERE NOT (blob_id = ANY(@Orphans)) OR blob_id = ANY(@Deleted)",
            new { Orphans = orphans.ToArray(), Deleted = deleted.ToArray() }, null, cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync("""
            INSERT INTO orphan_blob_candidates (blob_id, first_seen) SELECT unnest(@Ids), @Now ON CONFLICT (blob_id) DO NOTHING
            """, new { Ids = orphans.Except(deleted).ToArray(), Now = now }, null, cancellationToken).ConfigureAwait(false);

        if (deleted.Count > 0)
        {
            LogSwept(logger, deleted.Count);
        }

        return deleted.Count;
    }

    private sealed record OrphanCandidate(Guid BlobId, DateTimeOffset FirstSeen);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Deleted {Count} orphaned encrypted blobs left by interrupted submissions")]
    private static partial void LogSwept(ILogger logger, int count);
}
