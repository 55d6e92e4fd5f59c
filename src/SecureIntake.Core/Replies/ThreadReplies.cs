using System.Security.Cryptography;
using System.Text;
using Npgsql;
using SecureIntake.Core.Blobs;
using SecureIntake.Core.Editors;
using SecureIntake.Core.Intake;
using SecureIntake.Core.Recipients;
using SecureIntake.Core.Storage;
using SecureIntake.Core.Triage;
using SecureIntake.Crypto.Decryption;
using SecureIntake.Crypto.Keys;

namespace SecureIntake.Core.Replies;

/// <summary>
/// Editors' replies to a witness. A reply is encrypted to the thread's reply key and to the desk's
/// recipients (so the desk can read what it said), stored as an item of the submission, and numbered
/// per thread. Reading replies takes the unlock key that only the witness's codename yields.
/// </summary>
public sealed class ThreadReplies(RecipientStore recipients, BlobStore blobs, NpgsqlDataSource dataSource, TimeProvider clock)
{
    public const int MaxReplyCharacters = 20_000;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// Stores a reply once it is durable and committed; returns its number in the thread. A submission outside
    /// <paramref name="scope"/> is refused as one that does not exist (<see cref="SubmissionNotFoundException"/>).
    /// </summary>
    public async Task<int> AddAsync(DeskScope scope, Guid submissionId, string text, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(text);
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new ReplyRefusedException(TriageRefusal.ReplyEmpty, "a reply needs some text");
        }

        if (text.Length > MaxReplyCharacters)
        {
            throw new ReplyRefusedException(TriageRefusal.ReplyTooLong, $"a reply is at most {MaxReplyCharacters} characters", MaxReplyCharacters);
        }

        var (desk, certificate) = await ThreadAsync(scope, submissionId, cancellationToken).ConfigureAwait(false);
        var (_, deskKeys) = await recipients.UsableKeysAsync(desk, cancellationToken).ConfigureAwait(false);
        if (deskKeys.Count == 0)
        {
            throw new IntakeRefusedException(IntakeRefusal.DeskCannotEncrypt, $"desk '{desk}' has no usable recipient key");
        }

        var threadKey = RecipientKeyReader.Read(certificate, clock.GetUtcNow()).Single().Key
            ?? throw new InvalidOperationException($"the reply key of submission {submissionId} is not usable");

        SealedBlob blob;
        using (var plaintext = new MemoryStream(StrictUtf8.GetBytes(text)))
        {
            blob = await blobs.WriteEncryptedAsync([.. deskKeys, threadKey], plaintext, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            return await InsertAsync(submissionId, blob, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // A reply that is not committed must not stay on disk (the orphan sweep would get it, but later).
            blobs.Delete([blob.Id]);
            throw;
        }
    }

    /// <summary>
    /// Every reply on the thread, oldest first, decrypted in memory with the thread's reply key. Throws
    /// <see cref="CryptographicException"/> when <paramref name="unlockKey"/> is not the thread's.
    /// </summary>
    public async Task<IReadOnlyList<ThreadReply>> ReadAsync(Guid submissionId, byte[] unlockKey, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        if (await connection.ScalarAsync<byte[]>("SELECT reply_secret_key_sealed FROM submissions WHERE id = @Id", new { Id = submissionId }, null, cancellationToken)
            .ConfigureAwait(false) is not { } sealedKey)
        {
            return [];
        }

        var secretKey = ThreadKey.Unseal(sealedKey, submissionId, unlockKey);
        OpenPgpDecryptor decryptor;
        try
        {
            decryptor = OpenPgpDecryptor.FromSecretKeys(secretKey, []);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secretKey);
        }

        var found = await connection.QueryAsync<StoredReply>("""
            SELECT COALESCE(blob_id, id) AS Id, reply_number AS Number, added_at AS WrittenAt FROM submission_items WHERE submission_id = @Id AND kind = 'reply' ORDER BY reply_number
            """, new { Id = submissionId }, null, cancellationToken).ConfigureAwait(false);
        var replies = new List<ThreadReply>(found.Count);
        foreach (var (id, number, writtenAt) in found)
        {
            // Replies are small; their plaintext stays in memory and is never written anywhere.
            using var plaintext = new MemoryStream();
            await using (var ciphertext = blobs.OpenRead(id))
            {
                await decryptor.DecryptAsync(ciphertext, plaintext, cancellationToken).ConfigureAwait(false);
            }

            replies.Add(new ThreadReply(number, writtenAt, StrictUtf8.GetString(plaintext.GetBuffer(), 0, (int)plaintext.Length)));
        }

        return replies;
    }

    private async Task<(string Desk, byte[] Certificate)> ThreadAsync(DeskScope scope, Guid submissionId, CancellationToken cancellationToken)
    {
        var thread = await dataSource.QuerySingleOrDefaultAsync<ReplyThread>(
            $"SELECT d.name AS Desk, s.reply_certificate AS Certificate FROM submissions s JOIN desks d ON d.id = s.desk_id WHERE s.id = @Id AND {scope.Condition("s.desk_id")}",
            scope.Arguments(new { Id = submissionId }), cancellationToken).ConfigureAwait(false) ?? throw new SubmissionNotFoundException();
        return thread.Certificate is null
            ? throw new ReplyRefusedException(TriageRefusal.ReplyWithoutCodename, "this submission came without a codename, so the witness cannot read a reply")
            : (thread.Desk, thread.Certificate);
    }

    private async Task<int> InsertAsync(Guid submissionId, SealedBlob blob, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);

        // The row lock orders replies written at the same moment, so each gets the next number.
        var number = await connection.ScalarAsync<int?>("""
            SELECT COALESCE(MAX(i.reply_number), 0) + 1
            FROM (SELECT id FROM submissions WHERE id = @Submission FOR UPDATE) s
            LEFT JOIN submission_items i ON i.submission_id = s.id AND i.kind = 'reply'
            GROUP BY s.id
            """, new { Submission = submissionId }, transaction, cancellationToken).ConfigureAwait(false) ?? throw new SubmissionNotFoundException();

        var reply = new { blob.Id, Submission = submissionId, Bytes = blob.CiphertextBytes, Minute = SubmissionWriter.ToMinute(clock.GetUtcNow()), Number = number };
        await connection.ExecuteAsync("""
            INSERT INTO submission_items (id, submission_id, batch_id, author, kind, ciphertext_bytes, added_at, reply_number)
            VALUES (@Id, @Submission, @Id, 'editor', 'reply', @Bytes, @Minute, @Number)
            """, reply, transaction, cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync("UPDATE submissions SET ciphertext_bytes = ciphertext_bytes + @Bytes WHERE id = @Submission", reply, transaction, cancellationToken)
            .ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return number;
    }

    private sealed record StoredReply(Guid Id, int Number, DateTimeOffset WrittenAt);

    private sealed record ReplyThread(string Desk, byte[]? Certificate);
}

/// <summary>One reply as the witness reads it; the time is only to the minute, as everything stored.</summary>
public sealed record ThreadReply(int Number, DateTimeOffset WrittenAt, string Text);

/// <summary>A reply that was refused, and not stored; worded on the desk like every <see cref="TriageRefusedException"/>.</summary>
public sealed class ReplyRefusedException(TriageRefusal refusal, string message, params object[] arguments) : TriageRefusedException(refusal, message, arguments);
