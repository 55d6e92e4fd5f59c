using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using SecureIntake.Core.Blobs;
using SecureIntake.Mail.Ingest;
using SecureIntake.Testing;

namespace SecureIntake.Mail.Tests;

/// <summary>
/// The gateway's group commit against a real Dovecot, stopped at each step of a batch as a crash would stop it: the
/// next pass loses nothing and takes nothing twice, and identical messages in one batch are stored once.
/// </summary>
public sealed class GroupCommitTests : IAsyncLifetime
{
    // More than one batch (50): a crash in the first leaves a whole batch and some never fetched.
    private const int MessageCount = 55;

    // More than the gateway removes at once (200), so that a removal runs while the pass still fetches.
    private const int RemovalsWorth = 260;

    private MailTestBed _bed = null!;
    private DovecotServer _dovecot = null!;

    public async Task InitializeAsync()
    {
        _bed = await MailTestBed.CreateAsync();
        _dovecot = await DovecotServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _dovecot.DisposeAsync();
        await _bed.DisposeAsync();
    }

    [Fact]
    public async Task A_crash_after_the_blobs_are_on_disk_loses_no_message_and_the_sweep_removes_what_it_left()
    {
        var messages = await DeliverAsync(MessageCount);
        var saved = Directory.CreateDirectory(Path.Combine(_bed.BlobDirectory + "-crash")).FullName;

        // What a crash right after the fsync leaves: the batch's blob files on disk, no row naming them. The hook keeps a
        // link to each before the failed pass cleans up after itself, and they are put back as the crash would have left them.
        // Batches are fsynced side by side, so whichever gets there first is the one the crash stops; another batch reaching
        // the same step meanwhile fails there too, once the links are made (a failed batch deletes its blobs), and nothing
        // is committed.
        var crashes = 0;
        var linked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await RunAsync(async step =>
        {
            if (step == BatchStep.BlobsDurable)
            {
                if (Interlocked.Increment(ref crashes) > 1)
                {
                    await linked.Task;
                    throw new SimulatedCrashException();
                }

                // Hard links: the pass holds its blobs locked, so they cannot be opened to copy.
                var link = new System.Diagnostics.ProcessStartInfo("ln") { RedirectStandardError = true };
                foreach (var blob in Directory.GetFiles(_bed.BlobDirectory))
                {
                    link.ArgumentList.Add(blob);
                }

                link.ArgumentList.Add(saved);
                using var ln = System.Diagnostics.Process.Start(link)!;
                await ln.WaitForExitAsync();
                linked.SetResult();
                Assert.True(ln.ExitCode == 0, await ln.StandardError.ReadToEndAsync());
                throw new SimulatedCrashException();
            }
        });
        var left = Directory.GetFiles(saved);
        foreach (var blob in left)
        {
            File.Move(blob, Path.Combine(_bed.BlobDirectory, Path.GetFileName(blob)));
        }

        // Every blob of the batch the crash stopped (the 50 or the last 5 emails), and whatever of the other batch was written
        // by then: batches are fetched and encrypted beside each other, and a crash leaves those as orphans too.
        Assert.InRange(left.Length, MessageCount - 50, MessageCount);
        Assert.Equal(MessageCount, await _dovecot.CountAsync());
        Assert.Equal(0L, await SubmissionsAsync());

        await RunAsync(null);
        Assert.Equal(0, await _dovecot.CountAsync());
        await AssertStoredExactlyOnceAsync(messages, orphans: left.Length);

        // The sweep takes a blob only when it was orphaned at a sweep a day before and still is.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var services = _bed.Services(Settings());
        var sweep = new OrphanBlobSweep(services.GetRequiredService<BlobStore>(), services.GetRequiredService<NpgsqlDataSource>(), clock,
            NullLogger<OrphanBlobSweep>.Instance);
        Assert.Equal(0, await sweep.RunAsync(CancellationToken.None));
        clock.Advance(OrphanBlobSweep.Grace);
        Assert.Equal(left.Length, await sweep.RunAsync(CancellationToken.None));
        await AssertStoredExactlyOnceAsync(messages, orphans: 0);
    }

    [Fact]
    public async Task A_failure_while_one_message_is_encrypted_leaves_nothing_of_its_batch_and_the_next_pass_takes_every_message()
    {
        var messages = await DeliverAsync(MessageCount);

        // The third message to finish fails while others of its batch are still being encrypted on other threads.
        var encrypted = 0;
        await RunAsync(step => step == BatchStep.MessageEncrypted && Interlocked.Increment(ref encrypted) == 3
            ? throw new SimulatedCrashException()
            : Task.CompletedTask);

        Assert.Empty(Directory.GetFiles(_bed.BlobDirectory));
        Assert.Equal(0L, await SubmissionsAsync());
        Assert.Equal(MessageCount, await _dovecot.CountAsync());

        await RunAsync(null);
        Assert.Equal(0, await _dovecot.CountAsync());
        await AssertStoredExactlyOnceAsync(messages, orphans: 0);
    }

    [Theory]
    [InlineData(nameof(BatchStep.Committed))]
    [InlineData(nameof(BatchStep.Flagged))]
    [InlineData(nameof(BatchStep.Removed))]
    public async Task A_crash_after_the_commit_takes_no_message_in_twice(string step)
    {
        var crashAt = Enum.Parse<BatchStep>(step);
        var messages = await DeliverAsync(MessageCount);

        await RunAsync(step => step == crashAt ? throw new SimulatedCrashException() : Task.CompletedTask);
        // Committed is reached after the first batch; the removal comes once several batches (here: all) are committed.
        var committed = crashAt == BatchStep.Committed ? 50L : MessageCount;
        Assert.Equal(committed, await SubmissionsAsync());
        Assert.Equal(committed, await _bed.ScalarAsync<long>("SELECT count(*) FROM mail_messages"));

        await RunAsync(null);
        Assert.Equal(0, await _dovecot.CountAsync());
        await AssertStoredExactlyOnceAsync(messages, orphans: 0);
    }

    [Fact]
    public async Task More_than_one_removal_s_worth_is_taken_in_once_and_leaves_the_mailbox()
    {
        // Over 200: the first removal runs on a second connection while the pass still fetches and commits.
        var messages = await DeliverAsync(RemovalsWorth);

        await RunAsync(null);

        Assert.Equal(0, await _dovecot.CountAsync());
        await AssertStoredExactlyOnceAsync(messages, orphans: 0);
    }

    [Theory]
    [InlineData(nameof(BatchStep.Flagged))]
    [InlineData(nameof(BatchStep.Removed))]
    public async Task A_crash_in_a_removal_beside_the_fetches_takes_no_message_in_twice(string step)
    {
        var crashAt = Enum.Parse<BatchStep>(step);
        var messages = await DeliverAsync(RemovalsWorth);

        var reached = 0;
        await RunAsync(s => s == crashAt && Interlocked.Increment(ref reached) == 1 ? throw new SimulatedCrashException() : Task.CompletedTask);
        // The first removal's 200 were committed before it began; later batches may have committed meanwhile.
        Assert.InRange(await SubmissionsAsync(), 200L, RemovalsWorth);

        await RunAsync(null);
        Assert.Equal(0, await _dovecot.CountAsync());
        await AssertStoredExactlyOnceAsync(messages, orphans: 0);
    }

    [Fact]
    public async Task Two_identical_messages_in_one_batch_are_stored_once_and_both_leave_the_mailbox()
    {
        var twice = Message(1000);
        var other = Message(1001);
        foreach (var message in new[] { twice, other, twice })
        {
            await _dovecot.DeliverAsync(message);
        }

        await RunAsync(null);

        Assert.Equal(0, await _dovecot.CountAsync());
        await AssertStoredExactlyOnceAsync([twice, other], orphans: 0);
    }

    [Fact]
    public async Task Identical_messages_in_one_batch_stay_stored_once_across_a_crash_before_their_removal()
    {
        var twice = Message(1000);
        var other = Message(1001);
        foreach (var message in new[] { twice, other, twice })
        {
            await _dovecot.DeliverAsync(message);
        }

        await RunAsync(step => step == BatchStep.Committed ? throw new SimulatedCrashException() : Task.CompletedTask);
        Assert.Equal(3, await _dovecot.CountAsync());
        await RunAsync(null);

        Assert.Equal(0, await _dovecot.CountAsync());
        await AssertStoredExactlyOnceAsync([twice, other], orphans: 0);
    }

    /// <summary>One pass; a hook that throws stops it there, as a crash would (the pass fails, nothing after the step runs).</summary>
    private async Task RunAsync(Func<BatchStep, Task>? stepReached)
    {
        await using var services = _bed.Services(Settings());
        var gateway = services.GetRequiredService<ImapGateway>();
        gateway.StepReached = stepReached;
        if (stepReached is null)
        {
            await gateway.RunAsync(CancellationToken.None);
            return;
        }

        await Assert.ThrowsAsync<SimulatedCrashException>(() => gateway.RunAsync(CancellationToken.None));
    }

    /// <summary>
    /// One submission per distinct message, each one email item (and no manifest) whose blob gpg decrypts to that message,
    /// no ledger row left; besides those only <paramref name="orphans"/> blob files no row names.
    /// </summary>
    private async Task AssertStoredExactlyOnceAsync(List<byte[]> messages, int orphans)
    {
        Assert.Equal(messages.Count, await SubmissionsAsync());
        Assert.Equal(0L, await _bed.ScalarAsync<long>("SELECT count(*) FROM mail_messages"));
        var emails = await _bed.ColumnAsync<Guid>("SELECT id FROM submission_items WHERE kind = 'email'");
        var stored = new List<string>();
        foreach (var id in emails)
        {
            var blob = Path.Combine(_bed.BlobDirectory, id.ToString("N"));
            stored.Add(Convert.ToHexString((await _bed.Gpg.DecryptAsync(blob)).EnsureSuccess("gpg --decrypt").Output));
        }

        Assert.Equal(messages.Select(Convert.ToHexString).Order(StringComparer.Ordinal), stored.Order(StringComparer.Ordinal));
        Assert.Equal(messages.Count, await _bed.ScalarAsync<long>("SELECT count(*) FROM submission_items"));
        Assert.Equal(messages.Count + orphans, Directory.GetFiles(_bed.BlobDirectory).Length);
    }

    private Task<long> SubmissionsAsync() => _bed.ScalarAsync<long>("SELECT count(*) FROM submissions WHERE channel = 'mail'");

    private async Task<List<byte[]>> DeliverAsync(int count)
    {
        var messages = new List<byte[]>();
        for (var i = 0; i < count; i++)
        {
            var message = Message(i);
            await _dovecot.DeliverAsync(message);
            messages.Add(message);
        }

        return messages;
    }

    private static byte[] Message(int i) => Encoding.UTF8.GetBytes(
        $"From: witness{i}@example.invalid\r\nTo: tips@newsroom.invalid\r\nSubject: tip {i}\r\nMessage-ID: <{i}.{Guid.NewGuid()}@example.invalid>\r\n" +
        $"Content-Type: text/plain; charset=utf-8\r\n\r\nСвидетель {i}: {new string('ж', 100 + i)}\r\n");

    private Dictionary<string, string?> Settings() => new()
    {
        ["Mail:Imap:Host"] = _dovecot.Host,
        ["Mail:Imap:Port"] = _dovecot.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Mail:Imap:Security"] = "none",
        ["Mail:Imap:User"] = _dovecot.User,
        ["Mail:Imap:Password"] = _dovecot.Password,
    };

    private sealed class SimulatedCrashException() : Exception("the gateway stopped here, as a crash would stop it");
}
