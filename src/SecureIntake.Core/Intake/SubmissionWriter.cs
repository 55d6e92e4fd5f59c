using System.Transactions;
using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Npgsql;
using SecureIntake.Core.Blobs;

namespace SecureIntake.Core.Intake;

/// <summary>
/// Commits a draft's rows and its triage job in ONE local PostgreSQL transaction: Hangfire.PostgreSql
/// joins an ambient TransactionScope on our own connection (a storage object per transaction, only for
/// enqueueing), so either the witness's submission and its job both exist or neither does.
/// </summary>
internal sealed class SubmissionWriter(NpgsqlDataSource dataSource, TimeProvider clock)
{
    private static readonly PostgreSqlStorageOptions EnlistedStorage = new()
    {
        SchemaName = "hangfire",
        PrepareSchemaIfNecessary = false, // installed at start-up; the installer would open its own transaction
        EnableTransactionScopeEnlistment = true,
    };

    public async Task CommitAsync(SubmissionDraft draft, BlobStore blobs, CancellationToken cancellationToken)
    {
        // Never acknowledge an item whose ciphertext is not on disk at the size written.
        if (draft.Items.FirstOrDefault(i => blobs.Length(i.Id) != i.CiphertextBytes) is { } missing)
        {
            throw new IOException($"encrypted item {missing.Id} is missing or has the wrong size on disk");
        }

        var target = draft.Target;
        var minute = ToMinute(clock.GetUtcNow());
        using var scope = new TransactionScope(
            TransactionScopeOption.Required,
            new TransactionOptions { IsolationLevel = IsolationLevel.ReadCommitted, Timeout = TimeSpan.FromMinutes(1) },
            TransactionScopeAsyncFlowOption.Enabled);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        connection.EnlistTransaction(Transaction.Current);

        if (target.IsNew)
        {
            await using var insert = new NpgsqlCommand("""
                INSERT INTO submissions (id, desk_id, channel, received_at, witness_active_at, codename_locator, reply_certificate, reply_secret_key_sealed)
                VALUES (@id, @desk, @channel, @minute, @minute, @locator, @replyCertificate, @replySecretKey)
                """, connection);
            insert.Parameters.Add(Bytes("locator", draft.CodenameLocator));
            insert.Parameters.Add(Bytes("replyCertificate", draft.ReplyKey?.Certificate));
            insert.Parameters.Add(Bytes("replySecretKey", draft.ReplyKey?.SealedSecretKey));
            insert.Parameters.AddWithValue("id", target.SubmissionId);
            insert.Parameters.AddWithValue("desk", target.DeskId);
            insert.Parameters.AddWithValue("channel", target.Channel);
            insert.Parameters.AddWithValue("minute", minute);
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await using var touch = new NpgsqlCommand("UPDATE submissions SET witness_active_at = @minute WHERE id = @id", connection);
            touch.Parameters.AddWithValue("id", target.SubmissionId);
            touch.Parameters.AddWithValue("minute", minute);
            if (await touch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) != 1)
            {
                throw new IntakeRefusedException(IntakeRefusal.SubmissionGone, "the submission of this follow-up no longer exists");
            }
        }

        foreach (var item in draft.Items)
        {
            await using var insertItem = new NpgsqlCommand("""
                INSERT INTO submission_items (id, submission_id, batch_id, author, kind, ciphertext_bytes, added_at)
                VALUES (@id, @submission, @batch, 'witness', @kind, @bytes, @minute)
                """, connection);
            insertItem.Parameters.AddWithValue("id", item.Id);
            insertItem.Parameters.AddWithValue("submission", target.SubmissionId);
            insertItem.Parameters.AddWithValue("batch", draft.BatchId);
            insertItem.Parameters.AddWithValue("kind", item.Kind.ToString().ToLowerInvariant());
            insertItem.Parameters.AddWithValue("bytes", item.CiphertextBytes);
            insertItem.Parameters.AddWithValue("minute", minute);
            await insertItem.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        if (draft.MailOrigin is { } origin)
        {
            await using var ledger = new NpgsqlCommand("""
                INSERT INTO mail_messages (mailbox, uid_validity, uid, digest, submission_id) VALUES (@mailbox, @validity, @uid, @digest, @id)
                """, connection);
            ledger.Parameters.AddWithValue("mailbox", origin.Mailbox);
            ledger.Parameters.AddWithValue("validity", origin.UidValidity);
            ledger.Parameters.AddWithValue("uid", origin.Uid);
            ledger.Parameters.AddWithValue("digest", origin.Digest);
            ledger.Parameters.AddWithValue("id", target.SubmissionId);
            await ledger.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        // Counted for the editors' next notification, which goes out on a schedule, not at this moment.
        await using (var pending = new NpgsqlCommand("""
            INSERT INTO notification_pending (desk_id, new_submissions, follow_ups) VALUES (@desk, @new, @followUp)
            ON CONFLICT (desk_id) DO UPDATE SET new_submissions = notification_pending.new_submissions + @new,
                follow_ups = notification_pending.follow_ups + @followUp
            """, connection))
        {
            pending.Parameters.AddWithValue("desk", target.DeskId);
            pending.Parameters.AddWithValue("new", target.IsNew ? 1 : 0);
            pending.Parameters.AddWithValue("followUp", target.IsNew ? 0 : 1);
            await pending.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        // The queue shows counts and sizes without adding up items for every row it lists.
        await using (var totals = new NpgsqlCommand(
            "UPDATE submissions SET witness_batches = witness_batches + 1, file_count = file_count + @files, ciphertext_bytes = ciphertext_bytes + @bytes WHERE id = @id", connection))
        {
            totals.Parameters.AddWithValue("id", target.SubmissionId);
            totals.Parameters.AddWithValue("files", draft.Items.Count(i => i.Kind is ItemKind.File or ItemKind.Email));
            totals.Parameters.AddWithValue("bytes", draft.Items.Sum(i => i.CiphertextBytes));
            await totals.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        var storage = new PostgreSqlStorage(new ExistingNpgsqlConnectionFactory(connection, EnlistedStorage), EnlistedStorage);
        new BackgroundJobClient(storage).Enqueue<BatchArrivedJob>(job => job.RunAsync(target.SubmissionId, draft.BatchId, CancellationToken.None));
        scope.Complete();
    }

    /// <summary>Whether a batch's rows are in the database: true, false, or null when the database cannot say.</summary>
    public async Task<bool?> IsCommittedAsync(Guid batchId)
    {
        try
        {
            await using var command = dataSource.CreateCommand("SELECT EXISTS (SELECT 1 FROM submission_items WHERE batch_id = @batch)");
            command.Parameters.AddWithValue("batch", batchId);
            return (bool)(await command.ExecuteScalarAsync(CancellationToken.None).ConfigureAwait(false))!;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            return null;
        }
    }

    private static NpgsqlParameter Bytes(string name, byte[]? value) =>
        new(name, NpgsqlTypes.NpgsqlDbType.Bytea) { Value = (object?)value ?? DBNull.Value };

    internal static DateTimeOffset ToMinute(DateTimeOffset time) =>
        new(time.Year, time.Month, time.Day, time.Hour, time.Minute, 0, TimeSpan.Zero);
}
