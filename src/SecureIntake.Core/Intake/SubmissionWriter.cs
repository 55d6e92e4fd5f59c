using System.Transactions;
using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Npgsql;
using SecureIntake.Core.Blobs;
using SecureIntake.Core.Storage;

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
            await connection.ExecuteAsync("""
                INSERT INTO submissions (id, desk_id, channel, received_at, witness_active_at, codename_locator, reply_certificate, reply_secret_key_sealed)
                VALUES (@SubmissionId, @DeskId, @Channel, @Minute, @Minute, @Locator, @ReplyCertificate, @ReplySecretKey)
                """, new
            {
                target.SubmissionId,
                target.DeskId,
                target.Channel,
                Minute = minute,
                Locator = draft.CodenameLocator,
                ReplyCertificate = draft.ReplyKey?.Certificate,
                ReplySecretKey = draft.ReplyKey?.SealedSecretKey,
            }, null, cancellationToken).ConfigureAwait(false);
        }
        else if (await connection.ExecuteAsync("UPDATE submissions SET witness_active_at = @Minute WHERE id = @SubmissionId",
            new { target.SubmissionId, Minute = minute }, null, cancellationToken).ConfigureAwait(false) != 1)
        {
            throw new IntakeRefusedException(IntakeRefusal.SubmissionGone, "the submission of this follow-up no longer exists");
        }

        foreach (var item in draft.Items)
        {
            await connection.ExecuteAsync("""
                INSERT INTO submission_items (id, submission_id, batch_id, author, kind, ciphertext_bytes, added_at)
                VALUES (@Id, @SubmissionId, @BatchId, 'witness', @Kind, @CiphertextBytes, @Minute)
                """, new
            {
                item.Id,
                target.SubmissionId,
                draft.BatchId,
                Kind = item.Kind.ToString().ToLowerInvariant(),
                item.CiphertextBytes,
                Minute = minute,
            }, null, cancellationToken).ConfigureAwait(false);
        }

        if (draft.MailOrigin is { } origin)
        {
            await MailLedger.RecordAsync(connection, origin, target.SubmissionId, cancellationToken).ConfigureAwait(false);
        }

        // Counted for the editors' next notification, which goes out on a schedule, not at this moment.
        await PendingNotifications.CountAsync(connection, target.DeskId, target.IsNew, cancellationToken).ConfigureAwait(false);

        // The queue shows counts and sizes without adding up items for every row it lists.
        await connection.ExecuteAsync("""
            UPDATE submissions SET witness_batches = witness_batches + 1, file_count = file_count + @Files, ciphertext_bytes = ciphertext_bytes + @Bytes
            WHERE id = @SubmissionId
            """, new
        {
            target.SubmissionId,
            Files = draft.Items.Count(i => i.Kind is ItemKind.File or ItemKind.Email),
            Bytes = draft.Items.Sum(i => i.CiphertextBytes),
        }, null, cancellationToken).ConfigureAwait(false);

        var storage = new PostgreSqlStorage(new ExistingNpgsqlConnectionFactory(connection, EnlistedStorage), EnlistedStorage);
        new BackgroundJobClient(storage).Enqueue<BatchArrivedJob>(job => job.RunAsync(target.SubmissionId, draft.BatchId, CancellationToken.None));
        scope.Complete();
    }

    /// <summary>Whether a batch's rows are in the database: true, false, or null when the database cannot say.</summary>
    public async Task<bool?> IsCommittedAsync(Guid batchId)
    {
        try
        {
            return await dataSource.ScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM submission_items WHERE batch_id = @BatchId)", new { BatchId = batchId },
                CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            return null;
        }
    }

    internal static DateTimeOffset ToMinute(DateTimeOffset time) =>
        new(time.Year, time.Month, time.Day, time.Hour, time.Minute, 0, TimeSpan.Zero);
}
