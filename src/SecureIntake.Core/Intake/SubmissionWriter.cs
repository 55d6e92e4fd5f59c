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
        using var scope = NewTransaction();
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

    /// <summary>
    /// Commits a group of new submissions on one desk (<see cref="IntakeBatch"/>) in ONE transaction: their rows in a
    /// few set-wise statements, their ledger rows and those of copies, the desk's notification count, and one triage job
    /// for all their batches, so that every committed submission is checked exactly as a single commit's job checks it.
    /// </summary>
    public async Task CommitBatchAsync(IReadOnlyList<SubmissionDraft> drafts, IReadOnlyList<(MailOrigin Origin, Guid SubmissionId)> copies, BlobStore blobs,
        CancellationToken cancellationToken)
    {
        // A crash after this commit must not find a row naming a blob the disk may not have kept.
        if (drafts.SelectMany(d => d.Held).FirstOrDefault(b => !b.IsDurable) is { } volatileBlob)
        {
            throw new InvalidOperationException($"blob {volatileBlob.Id} is not durable yet: its batch cannot be committed");
        }

        var items = drafts.SelectMany(d => d.Items.Select(i => (Draft: d, Item: i))).ToList();
        if (items.FirstOrDefault(x => blobs.Length(x.Item.Id) != x.Item.CiphertextBytes) is { Item: { } missing })
        {
            throw new IOException($"encrypted item {missing.Id} is missing or has the wrong size on disk");
        }

        if (drafts.FirstOrDefault(d => !d.Target.IsNew || d.CodenameLocator is not null || d.Target.DeskId != drafts[0].Target.DeskId) is { } odd)
        {
            throw new InvalidOperationException($"submission {odd.Target.SubmissionId} does not belong in a batch: a batch holds new submissions without codenames on one desk");
        }

        var minute = ToMinute(clock.GetUtcNow());
        using var scope = NewTransaction();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        connection.EnlistTransaction(Transaction.Current);

        if (drafts.Count > 0)
        {
            await connection.ExecuteAsync("""
                INSERT INTO submissions (id, desk_id, channel, received_at, witness_active_at, witness_batches, file_count, ciphertext_bytes)
                SELECT s.id, @DeskId, s.channel, @Minute, @Minute, 1, s.files, s.bytes FROM unnest(@Ids, @Channels, @Files, @Bytes) AS s (id, channel, files, bytes)
                """, new
            {
                drafts[0].Target.DeskId,
                Minute = minute,
                Ids = drafts.Select(d => d.Target.SubmissionId).ToArray(),
                Channels = drafts.Select(d => d.Target.Channel).ToArray(),
                Files = drafts.Select(d => d.Items.Count(i => i.Kind is ItemKind.File or ItemKind.Email)).ToArray(),
                Bytes = drafts.Select(d => d.Items.Sum(i => i.CiphertextBytes)).ToArray(),
            }, null, cancellationToken).ConfigureAwait(false);

            await connection.ExecuteAsync("""
                INSERT INTO submission_items (id, submission_id, batch_id, author, kind, ciphertext_bytes, added_at)
                SELECT i.id, i.submission_id, i.batch_id, 'witness', i.kind, i.bytes, @Minute
                FROM unnest(@Ids, @Submissions, @Batches, @Kinds, @Bytes) AS i (id, submission_id, batch_id, kind, bytes)
                """, new
            {
                Minute = minute,
                Ids = items.Select(x => x.Item.Id).ToArray(),
                Submissions = items.Select(x => x.Draft.Target.SubmissionId).ToArray(),
                Batches = items.Select(x => x.Draft.BatchId).ToArray(),
                Kinds = items.Select(x => x.Item.Kind.ToString().ToLowerInvariant()).ToArray(),
                Bytes = items.Select(x => x.Item.CiphertextBytes).ToArray(),
            }, null, cancellationToken).ConfigureAwait(false);

            await PendingNotifications.CountAsync(connection, drafts[0].Target.DeskId, drafts.Count, 0, cancellationToken).ConfigureAwait(false);
        }

        var ledger = drafts.Where(d => d.MailOrigin is not null).Select(d => (Origin: d.MailOrigin!, d.Target.SubmissionId)).Concat(copies).ToList();
        await MailLedger.RecordAsync(connection, ledger, cancellationToken).ConfigureAwait(false);

        var storage = new PostgreSqlStorage(new ExistingNpgsqlConnectionFactory(connection, EnlistedStorage), EnlistedStorage);
        if (drafts.Count > 0)
        {
            var submissionIds = drafts.Select(d => d.Target.SubmissionId).ToArray();
            var batchIds = drafts.Select(d => d.BatchId).ToArray();
            new BackgroundJobClient(storage).Enqueue<BatchArrivedJob>(job => job.RunManyAsync(submissionIds, batchIds, CancellationToken.None));
        }

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

    // Hangfire's storage joins the same transaction on our connection, so a single commit holds rows and jobs together.
    private static TransactionScope NewTransaction() => new(
        TransactionScopeOption.Required,
        new TransactionOptions { IsolationLevel = IsolationLevel.ReadCommitted, Timeout = TimeSpan.FromMinutes(1) },
        TransactionScopeAsyncFlowOption.Enabled);
}
