using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using Hangfire;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Security;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using SecureIntake.Core.Intake;
using SecureIntake.Core.Recipients;
using SecureIntake.Core.Status;
using SecureIntake.Core.Storage;

namespace SecureIntake.Mail.Ingest;

/// <summary>
/// The recurring job that drains the tips mailbox. Each message is taken in whole and encrypted, committed
/// with a ledger row naming its place in the mailbox, and only then deleted from the server (or moved);
/// the row goes once the server confirmed. A crash in between leaves the row, and the next run removes
/// the message instead of taking it in again; a message found under new UIDs (UIDVALIDITY changed) is
/// recognised by its digest. One gateway at a time drains a mailbox (a PostgreSQL advisory lock), however
/// many hosts run the worker.
/// </summary>
public sealed partial class ImapGateway(IOptions<MailOptions> options, IntakeService intakeService, MessageIntake intake, AcknowledgementGuard acknowledgements,
    NpgsqlDataSource dataSource, MailLedger ledger, ServiceStatus status, GatewayMeter meter, ILogger<ImapGateway> logger)
{
    public const string Component = "mail-gateway";

    // A group commit ends at whichever comes first. Each batch costs one fsync round, one transaction and one removal;
    // its blobs stay open (locked against the orphan sweep) until it is committed.
    private const int BatchMessages = 50;
    private const long BatchBytes = 16L << 20;

    private const int RemovalBatch = 200;

    // Messages held in memory and encrypted at once, across the batches in flight: one more than the cores, so that a core
    // whose encryption waits on the disk for a moment has the next message to take up.
    private static readonly int EncryptingAtOnce = Environment.ProcessorCount + 1;

    private readonly MailOptions _options = options.Value;

    /// <summary>For crash tests: called at each step of a batch; a hook that throws or never returns stops the pass right there.</summary>
    internal Func<BatchStep, Task>? StepReached { get; set; }

    private GatewayMeter Meter => meter;

    /// <summary>Whether the last pass found another gateway draining the mailbox and left it to that one.</summary>
    internal bool LockedOut { get; private set; }

    /// <summary>
    /// Runs one pass; failures are recorded for the desk and retried later with back-off, not by Hangfire. No
    /// [DisableConcurrentExecution]: Hangfire.PostgreSql keeps that lock as a row a killed worker never deletes,
    /// which held every later pass off for its 10-minute timeout; the advisory lock below ends with the connection.
    /// </summary>
    [AutomaticRetry(Attempts = 0)]
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var imap = _options.Imap;
        if (!imap.Enabled || await status.IsBackingOffAsync(Component, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        var mailbox = $"{imap.User}@{imap.Host}:{imap.Port}/{imap.Folder}";
        await using var lockConnection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        if (!await TryLockAsync(lockConnection, mailbox, cancellationToken).ConfigureAwait(false))
        {
            LockedOut = true;
            return; // another gateway is draining this mailbox right now
        }

        try
        {
            using var client = new ImapClient();
            await ConnectAsync(client, imap, cancellationToken).ConfigureAwait(false);
            var folder = (ImapFolder)await client.GetFolderAsync(imap.Folder, cancellationToken).ConfigureAwait(false);
            await folder.OpenAsync(FolderAccess.ReadWrite, cancellationToken).ConfigureAwait(false);
            var taken = await DrainAsync(client, folder, mailbox, cancellationToken).ConfigureAwait(false);
            await client.DisconnectAsync(quit: true, cancellationToken).ConfigureAwait(false);
            await status.SucceededAsync(Component, cancellationToken).ConfigureAwait(false);
            if (taken > 0)
            {
                LogTaken(logger, taken);
            }
        }
        catch (Exception e) when (IsMailServerProblem(e) && !cancellationToken.IsCancellationRequested)
        {
            // The kind and the server's words only: never anything from a message.
            await status.FailedAsync(Component, $"{e.GetType().Name}: {e.Message}", cancellationToken).ConfigureAwait(false);
            LogFailed(logger, e.GetType().Name, e.Message);
        }
        finally
        {
            await lockConnection.ScalarAsync<bool>("SELECT pg_advisory_unlock(hashtextextended(@Mailbox, 0))", new { Mailbox = mailbox }, null, CancellationToken.None)
                .ConfigureAwait(false);
        }
    }

    private async Task<int> DrainAsync(ImapClient client, ImapFolder folder, string mailbox, CancellationToken cancellationToken)
    {
        var validity = (long)folder.UidValidity;
        var stored = await ledger.ListAsync(mailbox, cancellationToken).ConfigureAwait(false);

        // First what a crash left between commit and removal: taken in already, only to be removed.
        var leftOver = stored.Where(r => r.UidValidity == validity).Select(r => new UniqueId((uint)r.Uid)).ToList();
        if (leftOver.Count > 0)
        {
            await RemoveAsync(client, folder, leftOver, cancellationToken).ConfigureAwait(false);
            await ForgetAsync(mailbox, validity, leftOver, cancellationToken).ConfigureAwait(false);
        }

        var pipeline = new BatchPipeline(this, client, folder, mailbox, validity);
        try
        {
            var batch = new List<UniqueId>();
            long batchBytes = 0;
            var messages = await folder.FetchAsync(0, -1, MessageSummaryItems.UniqueId | MessageSummaryItems.Size, cancellationToken).ConfigureAwait(false);
            foreach (var message in messages.Where(m => !leftOver.Contains(m.UniqueId)).OrderBy(m => m.UniqueId.Id))
            {
                if (message.Size > _options.MaxMessageBytes)
                {
                    await QuarantineAsync(client, folder, message.UniqueId, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                batch.Add(message.UniqueId);
                batchBytes += message.Size ?? 0;
                if (batch.Count >= BatchMessages || batchBytes >= BatchBytes)
                {
                    await pipeline.TakeInAsync([.. batch], cancellationToken).ConfigureAwait(false);
                    batch.Clear();
                    batchBytes = 0;
                }
            }

            if (batch.Count > 0)
            {
                await pipeline.TakeInAsync(batch, cancellationToken).ConfigureAwait(false);
            }

            await pipeline.FinishAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await pipeline.DisposeAsync().ConfigureAwait(false);
        }

        // Rows whose message is gone (removed before a crash could forget them, or renumbered and seen above).
        await ledger.ForgetMailboxAsync(mailbox, cancellationToken).ConfigureAwait(false);
        return pipeline.Taken;
    }

    /// <summary>
    /// Batches in a pipeline: a batch's FETCH starts as soon as the one before was read, while that one's last messages are
    /// still being encrypted and the batch before it commits (its blobs fsynced, then one transaction); committed messages
    /// are removed from the server on a second connection. Commits still go one after another, each after the one before
    /// it, so copies are still found in the ledger; nothing is removed from the server (or quarantined) before its batch is
    /// committed, and a removal's ledger rows are forgotten only after the server confirmed it.
    /// </summary>
    private sealed class BatchPipeline(ImapGateway gateway, ImapClient client, ImapFolder folder, string mailbox, long validity) : IAsyncDisposable
    {
        // Two batches ahead of a FETCH at most: one finishing its encryption, one committing.
        private const int BatchesInFlight = 2;

        private readonly List<UniqueId> _toRemove = [];
        private readonly Queue<Task<CommittedBatch>> _committing = new();
        private readonly SemaphoreSlim _encryptionSlots = new(EncryptingAtOnce);
        private EncryptionThreads? _encryptionThreads; // started with the first batch, so a pass that finds the mailbox empty starts none
        private Task? _removing;
        private ImapClient? _remover;
        private ImapFolder? _removerFolder;

        public int Taken { get; private set; }

        /// <summary>Fetches a batch and leaves it encrypting and then committing, once the batch before it has committed.</summary>
        public async Task TakeInAsync(List<UniqueId> uids, CancellationToken cancellationToken)
        {
            while (_committing.Count >= BatchesInFlight)
            {
                await AfterCommitAsync(await WaitForCommitAsync().ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            }

            _encryptionThreads ??= new EncryptionThreads(EncryptingAtOnce);
            var fetched = await gateway.FetchBatchAsync(folder, uids, _encryptionSlots, _encryptionThreads, cancellationToken).ConfigureAwait(false);
            // After the last batch still in flight; one already out of the queue was committed before this pass went on.
            _committing.Enqueue(gateway.CommitBatchAsync(mailbox, validity, fetched, _committing.LastOrDefault(), cancellationToken));
        }

        /// <summary>Waits for the last commits and removal, then removes the rest of what was committed from the server.</summary>
        public async Task FinishAsync(CancellationToken cancellationToken)
        {
            while (_committing.Count > 0)
            {
                await AfterCommitAsync(await WaitForCommitAsync().ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            }

            await WaitForRemovalAsync().ConfigureAwait(false);
            await gateway.RemoveAndForgetAsync(client, folder, mailbox, validity, _toRemove, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>
        /// On a failure, commits and a removal still under way are let finish (or fail) before the pass ends; their own failures
        /// are not the one reported. A removal cut short leaves ledger rows, and the next pass removes those messages first.
        /// </summary>
        public async ValueTask DisposeAsync()
        {
            foreach (var running in _committing.Cast<Task>().Append(_removing))
            {
                if (running is not null)
                {
                    await running.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default)
                        .ConfigureAwait(false);
                }
            }

            _committing.Clear();
            _removing = null;
            _encryptionThreads?.Dispose(); // every encryption ended with its batch's commit task
            _encryptionSlots.Dispose();
            if (_remover is not null)
            {
                using var remover = _remover;
                _remover = null;
                try
                {
                    await remover.DisconnectAsync(quit: true, CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception e) when (IsMailServerProblem(e))
                {
                    // The pass is over either way; the server drops the connection on its own.
                }
            }
        }

        private async Task<CommittedBatch> WaitForCommitAsync()
        {
            var committing = _committing.Dequeue();
            var waiting = Stopwatch.GetTimestamp();
            try
            {
                return await committing.ConfigureAwait(false);
            }
            finally
            {
                gateway.Meter.Add(GatewayPhase.CommitWait, Stopwatch.GetTimestamp() - waiting);
            }
        }

        private async Task WaitForRemovalAsync()
        {
            if (_removing is not { } removing)
            {
                return;
            }

            var waiting = Stopwatch.GetTimestamp();
            try
            {
                await removing.ConfigureAwait(false);
            }
            finally
            {
                _removing = null;
                gateway.Meter.Add(GatewayPhase.RemovalWait, Stopwatch.GetTimestamp() - waiting);
            }
        }

        private async Task AfterCommitAsync(CommittedBatch committed, CancellationToken cancellationToken)
        {
            Taken += await gateway.AfterCommitAsync(client, folder, committed, _toRemove, cancellationToken).ConfigureAwait(false);
            if (_toRemove.Count >= RemovalBatch)
            {
                // On the second connection, beside the next fetches; one removal at a time.
                await WaitForRemovalAsync().ConfigureAwait(false);
                var (remover, removerFolder) = await RemoverAsync(cancellationToken).ConfigureAwait(false);
                List<UniqueId> removing = [.. _toRemove];
                _toRemove.Clear();
                _removing = gateway.RemoveAndForgetAsync(remover, removerFolder, mailbox, validity, removing, cancellationToken);
            }
        }

        /// <summary>The second connection, opened the first time a pass has enough to remove while it still fetches.</summary>
        private async Task<(ImapClient Client, ImapFolder Folder)> RemoverAsync(CancellationToken cancellationToken)
        {
            if (_remover is null)
            {
                var remover = new ImapClient();
                try
                {
                    await ConnectAsync(remover, gateway._options.Imap, cancellationToken).ConfigureAwait(false);
                    var opened = (ImapFolder)await remover.GetFolderAsync(gateway._options.Imap.Folder, cancellationToken).ConfigureAwait(false);
                    await opened.OpenAsync(FolderAccess.ReadWrite, cancellationToken).ConfigureAwait(false);
                    (_remover, _removerFolder) = (remover, opened);
                }
                catch
                {
                    remover.Dispose();
                    throw;
                }
            }

            return (_remover, _removerFolder!);
        }
    }

    /// <summary>A batch whose FETCH is read, its messages encrypting into blobs that are not yet durable (<see cref="Encrypted"/>), nothing committed.</summary>
    private sealed record FetchedBatch(IntakeBatch Batch, List<UniqueId> Uids, Task<EncryptedMessages> Encrypted);

    /// <summary>A batch's messages once encrypted: in fetch order, and the empty ones apart.</summary>
    private sealed record EncryptedMessages(List<(UniqueId Uid, BatchedMessage Message)> Arrived, List<UniqueId> Empty);

    /// <summary>A committed batch: what it kept (copies left out) and the empty messages to set aside.</summary>
    private sealed record CommittedBatch(List<UniqueId> Uids, List<(UniqueId Uid, BatchedMessage Message)> Kept, List<UniqueId> Empty);

    private async Task<FetchedBatch> FetchBatchAsync(ImapFolder folder, List<UniqueId> uids, SemaphoreSlim encryptionSlots, EncryptionThreads encryptionThreads,
        CancellationToken cancellationToken)
    {
        var batch = await intakeService.StartBatchAsync(_options.Desk, "mail", cancellationToken).ConfigureAwait(false);
        try
        {
            var encrypted = await FetchAndStartEncryptingAsync(folder, uids, batch, encryptionSlots, encryptionThreads, cancellationToken).ConfigureAwait(false);
            return new FetchedBatch(batch, uids, encrypted);
        }
        catch
        {
            await batch.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// One group commit, owning the batch: once its messages are encrypted, the blobs made durable together (beside the
    /// commit of the batch before); once that batch is committed, copies (of a message stored before from this mailbox, or of
    /// one earlier in this batch) left out with a ledger row naming the submission they copy, so a crash before the removal
    /// cannot let them in later; then one transaction for all the submissions and ledger rows. When the batch before
    /// failed, this one is not committed either.
    /// </summary>
    private async Task<CommittedBatch> CommitBatchAsync(string mailbox, long validity, FetchedBatch fetched, Task<CommittedBatch>? before,
        CancellationToken cancellationToken)
    {
        var kept = new List<(UniqueId Uid, BatchedMessage Message)>();
        EncryptedMessages encrypted;
        await using (var batch = fetched.Batch)
        {
            var phase = Stopwatch.GetTimestamp();
            encrypted = await fetched.Encrypted.ConfigureAwait(false);
            phase = meter.Add(GatewayPhase.EncryptAndWrite, Stopwatch.GetTimestamp() - phase);
            await batch.MakeDurableAsync().ConfigureAwait(false);
            meter.Add(GatewayPhase.Fsync, Stopwatch.GetTimestamp() - phase);
            await StepAsync(BatchStep.BlobsDurable).ConfigureAwait(false);
            if (before is not null)
            {
                await before.ConfigureAwait(false); // copies are looked up only in what is committed
            }

            phase = Stopwatch.GetTimestamp();
            var storedBefore = await ledger.SubmissionsByDigestAsync(mailbox, encrypted.Arrived.Select(a => a.Message.Digest).ToList(), cancellationToken)
                .ConfigureAwait(false);
            var inThisBatch = new Dictionary<string, Guid>(StringComparer.Ordinal);
            foreach (var (uid, message) in encrypted.Arrived)
            {
                var origin = new MailOrigin(mailbox, validity, uid.Id, message.Digest);
                var key = Convert.ToHexString(message.Digest);
                if (storedBefore.TryGetValue(key, out var original) || inThisBatch.TryGetValue(key, out original))
                {
                    await batch.DiscardAsync(message.Draft).ConfigureAwait(false);
                    batch.RecordCopy(origin, original);
                    continue;
                }

                message.Draft.SetMailOrigin(origin);
                inThisBatch[key] = IntakeBatch.SubmissionIdOf(message.Draft);
                kept.Add((uid, message));
            }

            await batch.CommitAsync(cancellationToken).ConfigureAwait(false);
            meter.Add(GatewayPhase.Commit, Stopwatch.GetTimestamp() - phase);
        }

        await StepAsync(BatchStep.Committed).ConfigureAwait(false);
        return new CommittedBatch(fetched.Uids, kept, encrypted.Empty);
    }

    /// <summary>
    /// What follows a batch's commit: its UIDs join the next removal (every message of it is committed, or a copy of one that
    /// is, with its ledger row), empty messages are set aside, and acknowledgements and desk marks go out for what was kept.
    /// </summary>
    private async Task<int> AfterCommitAsync(ImapClient client, ImapFolder folder, CommittedBatch committed, List<UniqueId> toRemove,
        CancellationToken cancellationToken)
    {
        toRemove.AddRange(committed.Uids.Except(committed.Empty));
        foreach (var uid in committed.Empty)
        {
            await QuarantineAsync(client, folder, uid, cancellationToken).ConfigureAwait(false);
        }

        foreach (var (_, message) in committed.Kept)
        {
            if (message.OverSizeLimit)
            {
                // Longer than the server announced: already read whole, so stored like the pipe stores one, and marked the same way.
                await status.QuarantinedAsync(Component, cancellationToken).ConfigureAwait(false);
            }

            var result = new IngestResult(IngestOutcome.Committed, IntakeBatch.SubmissionIdOf(message.Draft), message.Sender, message.OverSizeLimit);
            await acknowledgements.SendAsync(result, cancellationToken).ConfigureAwait(false);
        }

        meter.CountMessages(committed.Kept.Count);
        return committed.Kept.Count;
    }

    /// <summary>
    /// One FETCH for the batch's messages. Each is copied out of the reply into memory and encrypted on its own thread
    /// while the next one is read, as many at once as the pass has encryption slots (shared by the batches in flight, so
    /// that they bound the plaintext held in memory); the copy is zeroed once encrypted. Returns once the FETCH is read,
    /// with the task of the batch's encryption: its messages in fetch order, and the empty ones apart. When the FETCH fails,
    /// nothing is still writing into the batch by the time this throws.
    /// </summary>
    private async Task<Task<EncryptedMessages>> FetchAndStartEncryptingAsync(ImapFolder folder, List<UniqueId> uids, IntakeBatch batch,
        SemaphoreSlim slots, EncryptionThreads threads, CancellationToken cancellationToken)
    {
        var encrypting = new List<Task<(UniqueId Uid, BatchedMessage? Message)>>();
        var phase = Stopwatch.GetTimestamp();
        try
        {
            await folder.GetStreamsAsync(uids, async (_, _, uid, raw, token) =>
            {
                var waiting = Stopwatch.GetTimestamp();
                await slots.WaitAsync(token).ConfigureAwait(false);
                meter.Add(GatewayPhase.EncryptionSlotWait, Stopwatch.GetTimestamp() - waiting);
                PlaintextCopy copy;
                try
                {
                    copy = await PlaintextCopy.ReadAsync(raw, token).ConfigureAwait(false);
                }
                catch
                {
                    slots.Release();
                    throw;
                }

                encrypting.Add(threads.Run(() => EncryptAsync(uid, copy, batch, cancellationToken), afterwards: () => slots.Release()));
            }, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await Task.WhenAll(encrypting).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default)
                .ConfigureAwait(false); // the fetch's failure is the one to report
            throw;
        }

        meter.Add(GatewayPhase.Fetch, Stopwatch.GetTimestamp() - phase);
        return CollectAsync(encrypting);

        static async Task<EncryptedMessages> CollectAsync(List<Task<(UniqueId Uid, BatchedMessage? Message)>> encrypting)
        {
            var results = await Task.WhenAll(encrypting).ConfigureAwait(false);
            return new EncryptedMessages(results.Where(r => r.Message is not null).Select(r => (r.Uid, r.Message!)).ToList(),
                results.Where(r => r.Message is null).Select(r => r.Uid).ToList());
        }
    }

    private async Task<(UniqueId Uid, BatchedMessage? Message)> EncryptAsync(UniqueId uid, PlaintextCopy copy, IntakeBatch batch, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            BatchedMessage message;
            await using (var raw = copy.OpenRead())
            {
                message = await intake.AddToBatchAsync(raw, batch, _options.MaxMessageBytes, cancellationToken).ConfigureAwait(false);
            }

            await StepAsync(BatchStep.MessageEncrypted).ConfigureAwait(false);
            return (uid, message);
        }
        catch (MessageRefusedException)
        {
            return (uid, null); // set aside on the server rather than retried for ever
        }
        finally
        {
            copy.Dispose(); // the slot is freed after it, by the encryption threads
            meter.AddEncryptionWork(Stopwatch.GetTimestamp() - started);
        }
    }

    /// <summary>
    /// Removes committed messages from the server, then forgets their ledger rows. Several batches at a time: a removal
    /// is a round trip and index writes on the server, and until it happens the ledger keeps every committed message
    /// from being taken twice.
    /// </summary>
    private async Task RemoveAndForgetAsync(ImapClient client, ImapFolder folder, string mailbox, long validity, List<UniqueId> uids,
        CancellationToken cancellationToken)
    {
        if (uids.Count == 0)
        {
            return;
        }

        var removing = Stopwatch.GetTimestamp();
        await RemoveAsync(client, folder, uids, cancellationToken).ConfigureAwait(false);
        await StepAsync(BatchStep.Removed).ConfigureAwait(false);
        await ForgetAsync(mailbox, validity, uids, cancellationToken).ConfigureAwait(false);
        meter.Add(GatewayPhase.Expunge, Stopwatch.GetTimestamp() - removing);
        uids.Clear();
    }

    private Task StepAsync(BatchStep step) => StepReached?.Invoke(step) ?? Task.CompletedTask;

    private async Task QuarantineAsync(ImapClient client, ImapFolder folder, UniqueId uid, CancellationToken cancellationToken)
    {
        var name = _options.Imap.QuarantineFolder;
        var quarantine = await FolderMadeIfMissingAsync(client, name, cancellationToken).ConfigureAwait(false);
        await folder.MoveToAsync(uid, quarantine, cancellationToken).ConfigureAwait(false);
        await status.QuarantinedAsync(Component, cancellationToken).ConfigureAwait(false);
        LogQuarantined(logger, name);
    }

    /// <summary>A folder at the top of the account, made the first time it is needed rather than left to the admin.</summary>
    private static async Task<IMailFolder> FolderMadeIfMissingAsync(ImapClient client, string name, CancellationToken cancellationToken)
    {
        try
        {
            return await client.GetFolderAsync(name, cancellationToken).ConfigureAwait(false);
        }
        catch (FolderNotFoundException)
        {
            var root = client.GetFolder(client.PersonalNamespaces[0]);
            return await root.CreateAsync(name, isMessageFolder: true, cancellationToken).ConfigureAwait(false)
                ?? throw new FolderNotFoundException(name);
        }
    }

    private async Task RemoveAsync(ImapClient client, ImapFolder folder, IList<UniqueId> uids, CancellationToken cancellationToken)
    {
        if (_options.Imap.MoveToFolder is { Length: > 0 } target)
        {
            // Without it, every pass would take messages in and then fail to remove them, until an admin made the folder.
            var destination = await FolderMadeIfMissingAsync(client, target, cancellationToken).ConfigureAwait(false);
            await folder.MoveToAsync(uids, destination, cancellationToken).ConfigureAwait(false);
            return;
        }

        await folder.AddFlagsAsync(uids, MessageFlags.Deleted, silent: true, cancellationToken).ConfigureAwait(false);
        await StepAsync(BatchStep.Flagged).ConfigureAwait(false);
        if (client.Capabilities.HasFlag(ImapCapabilities.UidPlus))
        {
            await folder.ExpungeAsync(uids, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await folder.ExpungeAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private Task ForgetAsync(string mailbox, long validity, IList<UniqueId> uids, CancellationToken cancellationToken) =>
        ledger.ForgetAsync(mailbox, validity, uids.Select(u => (long)u.Id).ToList(), cancellationToken);

    private static async Task<bool> TryLockAsync(NpgsqlConnection connection, string mailbox, CancellationToken cancellationToken)
    {
        return await connection.ScalarAsync<bool>("SELECT pg_try_advisory_lock(hashtextextended(@Mailbox, 0))", new { Mailbox = mailbox }, null, cancellationToken)
            .ConfigureAwait(false);
    }

    internal static async Task ConnectAsync(ImapClient client, ImapOptions imap, CancellationToken cancellationToken)
    {
        client.Timeout = (int)TimeSpan.FromMinutes(2).TotalMilliseconds;
        if (imap.TrustedCertificateFile is { Length: > 0 } file)
        {
            var trusted = X509CertificateLoader.LoadCertificateFromFile(file);
            client.ServerCertificateValidationCallback = (_, certificate, chain, errors) =>
                errors == System.Net.Security.SslPolicyErrors.None
                || (certificate is not null && certificate.GetCertHashString() == trusted.GetCertHashString());
        }

        var security = imap.Security switch
        {
            "starttls" => SecureSocketOptions.StartTls,
            "none" => SecureSocketOptions.None,
            _ => SecureSocketOptions.SslOnConnect,
        };
        await client.ConnectAsync(imap.Host!, imap.Port, security, cancellationToken).ConfigureAwait(false);
        await client.AuthenticateAsync(imap.User, imap.Password, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Failures an admin sees on the desk and the next pass retries: the mail server's, and intake refusing for
    /// now (a desk without a usable key, a full disk). Messages stay on the server meanwhile.
    /// </summary>
    private static bool IsMailServerProblem(Exception e) =>
        e is IntakeRefusedException or UnknownDeskException or IOException or System.Net.Sockets.SocketException or TimeoutException or ImapProtocolException or ImapCommandException
            or AuthenticationException or SslHandshakeException or ServiceNotConnectedException or ServiceNotAuthenticatedException
            or FolderNotFoundException or OperationCanceledException;

    [LoggerMessage(Level = LogLevel.Information, Message = "Mail gateway took in {Count} messages")]
    private static partial void LogTaken(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Mail gateway failed ({Kind}: {Reason}); it tries again later")]
    private static partial void LogFailed(ILogger logger, string kind, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A message over the size limit was moved to the mailbox folder {Folder}")]
    private static partial void LogQuarantined(ILogger logger, string folder);
}
