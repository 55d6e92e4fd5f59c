using Npgsql;
using SecureIntake.Core.Storage;

namespace SecureIntake.Core.Intake;

/// <summary>
/// The one owner of mail_messages: which messages of a mailbox are already stored, so a message is taken exactly
/// once even when the gateway dies between the commit and removing it from the mailbox. A row lives only until
/// its message is gone from the mailbox.
/// </summary>
public sealed class MailLedger(NpgsqlDataSource dataSource)
{
    /// <summary>Written in the same transaction as the submission it became.</summary>
    internal static Task RecordAsync(NpgsqlConnection connection, MailOrigin origin, Guid submissionId, CancellationToken cancellationToken) =>
        connection.ExecuteAsync("""
            INSERT INTO mail_messages (mailbox, uid_validity, uid, digest, submission_id) VALUES (@Mailbox, @UidValidity, @Uid, @Digest, @SubmissionId)
            """, new { origin.Mailbox, origin.UidValidity, origin.Uid, origin.Digest, SubmissionId = submissionId }, null, cancellationToken);

    /// <summary>A group commit's ledger rows, in the same transaction as its submissions.</summary>
    internal static async Task RecordAsync(NpgsqlConnection connection, IReadOnlyList<(MailOrigin Origin, Guid SubmissionId)> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return;
        }

        await connection.ExecuteAsync("""
            INSERT INTO mail_messages (mailbox, uid_validity, uid, digest, submission_id)
            SELECT * FROM unnest(@Mailboxes, @UidValidities, @Uids, @Digests, @Submissions)
            """, new
        {
            Mailboxes = rows.Select(r => r.Origin.Mailbox).ToArray(),
            UidValidities = rows.Select(r => r.Origin.UidValidity).ToArray(),
            Uids = rows.Select(r => r.Origin.Uid).ToArray(),
            Digests = rows.Select(r => r.Origin.Digest).ToArray(),
            Submissions = rows.Select(r => r.SubmissionId).ToArray(),
        }, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Which of these digests were stored from this mailbox before, with the submission each became: one query for a
    /// whole batch (see <see cref="HoldsDigestAsync"/>).
    /// </summary>
    public async Task<IReadOnlyDictionary<string, Guid>> SubmissionsByDigestAsync(string mailbox, IReadOnlyCollection<byte[]> digests,
        CancellationToken cancellationToken)
    {
        var found = await dataSource.QueryAsync<DigestEntry>("""
            SELECT DISTINCT ON (digest) digest AS Digest, submission_id AS SubmissionId FROM mail_messages WHERE mailbox = @Mailbox AND digest = ANY(@Digests)
            """, new { Mailbox = mailbox, Digests = digests.ToArray() }, cancellationToken).ConfigureAwait(false);
        return found.ToDictionary(e => Convert.ToHexString(e.Digest), e => e.SubmissionId, StringComparer.Ordinal);
    }

    public Task<IReadOnlyList<LedgerEntry>> ListAsync(string mailbox, CancellationToken cancellationToken) =>
        dataSource.QueryAsync<LedgerEntry>("SELECT uid_validity AS UidValidity, uid AS Uid FROM mail_messages WHERE mailbox = @Mailbox",
            new { Mailbox = mailbox }, cancellationToken);

    /// <summary>
    /// Whether this message's digest was stored from this mailbox before (a copy renumbered after a UIDVALIDITY change).
    /// The digest is an HMAC keyed outside the database (the mail gateway's MailKeys), never a plain hash of the message.
    /// </summary>
    public async Task<bool> HoldsDigestAsync(string mailbox, byte[] digest, CancellationToken cancellationToken) =>
        await dataSource.ScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM mail_messages WHERE mailbox = @Mailbox AND digest = @Digest)",
            new { Mailbox = mailbox, Digest = digest }, cancellationToken).ConfigureAwait(false);

    /// <summary>Forgets messages once they are gone from the mailbox.</summary>
    public Task ForgetAsync(string mailbox, long uidValidity, IReadOnlyCollection<long> uids, CancellationToken cancellationToken) =>
        dataSource.ExecuteAsync("DELETE FROM mail_messages WHERE mailbox = @Mailbox AND uid_validity = @UidValidity AND uid = ANY(@Uids)",
            new { Mailbox = mailbox, UidValidity = uidValidity, Uids = uids.ToArray() }, cancellationToken);

    public Task ForgetMailboxAsync(string mailbox, CancellationToken cancellationToken) =>
        dataSource.ExecuteAsync("DELETE FROM mail_messages WHERE mailbox = @Mailbox", new { Mailbox = mailbox }, cancellationToken);
}

public sealed record LedgerEntry(long UidValidity, long Uid);

internal sealed record DigestEntry(byte[] Digest, Guid SubmissionId);
