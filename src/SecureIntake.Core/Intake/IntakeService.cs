using Npgsql;
using SecureIntake.Core.Blobs;
using SecureIntake.Core.Recipients;
using SecureIntake.Core.Storage;

namespace SecureIntake.Core.Intake;

/// <summary>The one way in for every channel: start a draft for a desk (or a follow-up), add items, commit.</summary>
public sealed class IntakeService(RecipientStore recipients, BlobStore blobs, NpgsqlDataSource dataSource, TimeProvider clock)
{
    private readonly SubmissionWriter _writer = new(dataSource, clock);

    /// <summary>
    /// A new submission on <paramref name="desk"/>; refused before any byte is read when the disk is already at
    /// Storage:MinimumFreeBytes. Room is claimed as the bytes arrive, not up front for a declared size, so posts
    /// that declare much and send little take next to nothing.
    /// </summary>
    public async Task<SubmissionDraft> StartAsync(string desk, string channel, CancellationToken cancellationToken)
    {
        var (deskId, keys) = await recipients.UsableKeysAsync(desk, cancellationToken).ConfigureAwait(false);
        return Start(new SubmissionTarget(Guid.NewGuid(), deskId, channel, IsNew: true), desk, keys);
    }

    /// <summary>
    /// A group commit of new submissions on <paramref name="desk"/> (<see cref="IntakeBatch"/>): the desk's keys are
    /// read once for the whole batch.
    /// </summary>
    public async Task<IntakeBatch> StartBatchAsync(string desk, string channel, CancellationToken cancellationToken)
    {
        var (deskId, keys) = await recipients.UsableKeysAsync(desk, cancellationToken).ConfigureAwait(false);
        return keys.Count == 0
            ? throw new IntakeRefusedException(IntakeRefusal.DeskCannotEncrypt, $"desk '{desk}' has no usable recipient key")
            : new IntakeBatch(_writer, blobs, keys, deskId, channel);
    }

    /// <summary>A witness's follow-up on their own submission, encrypted to its desk's current recipients.</summary>
    public async Task<SubmissionDraft> StartFollowUpAsync(Guid submissionId, CancellationToken cancellationToken)
    {
        var (desk, channel) = await dataSource.QuerySingleOrDefaultAsync<SubmissionDesk>(
            "SELECT d.name AS Desk, s.channel AS Channel FROM submissions s JOIN desks d ON d.id = s.desk_id WHERE s.id = @Id", new { Id = submissionId },
            cancellationToken).ConfigureAwait(false) ?? throw new IntakeRefusedException(IntakeRefusal.SubmissionGone, "the submission was deleted");
        var (deskId, keys) = await recipients.UsableKeysAsync(desk, cancellationToken).ConfigureAwait(false);
        return Start(new SubmissionTarget(submissionId, deskId, channel, IsNew: false), desk, keys);
    }

    /// <summary>The submission a codename's locator belongs to, if any: one indexed lookup, found or not.</summary>
    public Task<Guid?> FindByCodenameAsync(byte[] locator, CancellationToken cancellationToken) =>
        dataSource.ScalarAsync<Guid?>("SELECT id FROM submissions WHERE codename_locator = @Locator", new { Locator = locator }, cancellationToken);

    private SubmissionDraft Start(SubmissionTarget target, string desk, IReadOnlyList<Crypto.Keys.RecipientKey> keys)
    {
        if (keys.Count == 0)
        {
            throw new IntakeRefusedException(IntakeRefusal.DeskCannotEncrypt, $"desk '{desk}' has no usable recipient key");
        }

        return blobs.HasRoomToStart
            ? new SubmissionDraft(_writer, blobs, keys, target)
            : throw new IntakeRefusedException(IntakeRefusal.NoRoom, "free disk space is below Storage:MinimumFreeBytes");
    }

    private sealed record SubmissionDesk(string Desk, string Channel);
}
