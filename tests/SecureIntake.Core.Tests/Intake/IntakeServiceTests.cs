using System.Text;
using System.Text.Json;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using SecureIntake.Core.Blobs;
using SecureIntake.Core.Intake;
using SecureIntake.Core.Recipients;
using SecureIntake.Crypto.Keys;
using SecureIntake.Testing;

namespace SecureIntake.Core.Tests.Intake;

public sealed class IntakeServiceTests : IAsyncLifetime, IDisposable
{
    private readonly GnuPgHome _gpg = new();
    private readonly TemporaryDirectory _blobDirectory = new("si-blobs-");
    private NpgsqlDataSource _dataSource = null!;
    private IntakeService _intake = null!;
    private RecipientKey _editor = null!;

    public async Task InitializeAsync()
    {
        _dataSource = await CoreDatabase.CreateAsync();
        _editor = await IntakeWorld.PrepareAsync(_dataSource, _gpg, TimeProvider.System);
        _intake = new IntakeService(new RecipientStore(_dataSource, TimeProvider.System), IntakeWorld.Blobs(_blobDirectory), _dataSource, TimeProvider.System);
    }

    public async Task DisposeAsync() => await _dataSource.DisposeAsync();

    public void Dispose()
    {
        _gpg.Dispose();
        _blobDirectory.Dispose();
    }

    [Fact]
    public async Task A_committed_submission_has_its_rows_its_job_and_blobs_gpg_decrypts_to_the_exact_bytes()
    {
        var message = Encoding.UTF8.GetBytes("Стреляли у акимата в 14:10. Менің атым жоқ.");
        var video = RandomBytes(300_000);

        Guid submission;
        await using (var draft = await _intake.StartAsync("default", "web", CancellationToken.None))
        {
            await draft.AddAsync(ItemKind.Message, null, "text/plain; charset=utf-8", new MemoryStream(message), CancellationToken.None);
            await draft.AddAsync(ItemKind.File, "площадь.mp4", "video/mp4", new MemoryStream(video), CancellationToken.None);
            submission = await draft.CommitAsync(CancellationToken.None);
        }

        var items = await ItemsAsync(submission);
        Assert.Equal(["file", "manifest", "message"], items.Select(i => i.Kind).Order(StringComparer.Ordinal));
        Assert.Equal(message, await DecryptWithGpgAsync(items.Single(i => i.Kind == "message").Id));
        Assert.Equal(video, await DecryptWithGpgAsync(items.Single(i => i.Kind == "file").Id));
        using var manifest = JsonDocument.Parse(await DecryptWithGpgAsync(items.Single(i => i.Kind == "manifest").Id));
        var file = manifest.RootElement.GetProperty("items").EnumerateArray().Single(i => i.GetProperty("kind").GetString() == "file");
        Assert.Equal("площадь.mp4", file.GetProperty("fileName").GetString());
        Assert.Equal(300_000, file.GetProperty("bytes").GetInt64());

        var jobs = await ScalarAsync<long>("SELECT count(*) FROM hangfire.job");
        var jobArguments = await ScalarAsync<string>("SELECT invocationdata::text || ' ' || arguments::text FROM hangfire.job");
        Assert.Equal(1, jobs);
        Assert.Contains(submission.ToString(), jobArguments, StringComparison.Ordinal);
        Assert.DoesNotContain("площадь", jobArguments, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Nothing_identifying_is_in_plaintext_columns_and_times_are_to_the_minute()
    {
        await using (var draft = await _intake.StartAsync("default", "web", CancellationToken.None))
        {
            await draft.AddAsync(ItemKind.File, "secret-police-order.pdf", "application/pdf", new MemoryStream(RandomBytes(1000)), CancellationToken.None);
            await draft.CommitAsync(CancellationToken.None);
        }

        var everything = await ScalarAsync<string>(
            "SELECT string_agg(s::text, ' ') || (SELECT string_agg(i::text, ' ') FROM submission_items i) FROM submissions s");
        Assert.DoesNotContain("secret-police-order", everything, StringComparison.Ordinal);
        Assert.DoesNotContain("application/pdf", everything, StringComparison.Ordinal);
        Assert.Equal(0, await ScalarAsync<long>("SELECT count(*) FROM submissions WHERE extract(second FROM received_at) <> 0"));
    }

    [Fact]
    public async Task A_failure_at_commit_leaves_no_rows_no_job_and_no_blobs()
    {
        await using (var draft = await _intake.StartAsync("default", "web", CancellationToken.None))
        {
            await draft.AddAsync(ItemKind.Message, null, "text/plain", new MemoryStream(RandomBytes(5000)), CancellationToken.None);
            // The desk disappears between the upload and the commit: the insert fails on its foreign key.
            await ExecuteAsync("DELETE FROM desks");
            await Assert.ThrowsAsync<PostgresException>(() => draft.CommitAsync(CancellationToken.None));
        }

        Assert.Empty(Directory.GetFiles(_blobDirectory.Path));
        Assert.Equal(0, await ScalarAsync<long>("SELECT count(*) FROM submissions"));
        Assert.Equal(0, await ScalarAsync<long>("SELECT count(*) FROM submission_items"));
        Assert.Equal(0, await ScalarAsync<long>("SELECT count(*) FROM hangfire.job"));
    }

    [Fact]
    public async Task A_commit_that_fails_after_the_job_was_queued_takes_the_job_back_too()
    {
        // A deferred constraint fails only at COMMIT, after the rows and the Hangfire job were written:
        // the job must vanish with the rows, which proves they share one transaction.
        await ExecuteAsync("""
            CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused at commit'; END $$;
            CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER INSERT ON submission_items DEFERRABLE INITIALLY DEFERRED
                FOR EACH ROW EXECUTE FUNCTION refuse();
            """);
        await using (var draft = await _intake.StartAsync("default", "web", CancellationToken.None))
        {
            await draft.AddAsync(ItemKind.Message, null, "text/plain", new MemoryStream(RandomBytes(100)), CancellationToken.None);
            await Assert.ThrowsAnyAsync<Exception>(() => draft.CommitAsync(CancellationToken.None));
        }

        Assert.Empty(Directory.GetFiles(_blobDirectory.Path));
        Assert.Equal(0, await ScalarAsync<long>("SELECT count(*) FROM submissions"));
        Assert.Equal(0, await ScalarAsync<long>("SELECT count(*) FROM hangfire.job"));
    }

    [Fact]
    public async Task An_upload_cut_off_half_way_leaves_no_blob_behind()
    {
        using var cancel = new CancellationTokenSource();
        await using (var draft = await _intake.StartAsync("default", "web", CancellationToken.None))
        {
            await draft.AddAsync(ItemKind.Message, null, "text/plain", new MemoryStream(RandomBytes(100)), CancellationToken.None);
            var endless = new CancelAfterStream(200_000, cancel);
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => draft.AddAsync(ItemKind.File, "x.bin", null, endless, cancel.Token));
        }

        Assert.Empty(Directory.GetFiles(_blobDirectory.Path));
        Assert.Equal(0, await ScalarAsync<long>("SELECT count(*) FROM submissions"));
    }

    [Fact]
    public async Task A_desk_without_a_usable_key_refuses_before_anything_is_written()
    {
        await ExecuteAsync("DELETE FROM recipient_keys");

        var refusal = await Assert.ThrowsAsync<IntakeRefusedException>(() => _intake.StartAsync("default", "web", CancellationToken.None));

        Assert.Equal(IntakeRefusal.DeskCannotEncrypt, refusal.Reason);
        Assert.Empty(Directory.GetFiles(_blobDirectory.Path));
    }

    [Fact]
    public async Task Posts_that_declare_a_huge_size_take_no_room_before_their_bytes_arrive()
    {
        // Room for about one declared size; forty posts each declare it, and each sends a short message.
        var intake = IntakeWithFloor(FreeBytes() - (1L << 30));
        var drafts = new List<SubmissionDraft>();
        try
        {
            for (var i = 0; i < 40; i++)
            {
                drafts.Add(await intake.StartAsync("default", "web", CancellationToken.None));
            }

            await Task.WhenAll(drafts.Select(d =>
                d.AddAsync(ItemKind.Message, null, "text/plain", new MemoryStream(RandomBytes(2000)), CancellationToken.None)));
            foreach (var draft in drafts)
            {
                await draft.CommitAsync(CancellationToken.None);
            }
        }
        finally
        {
            foreach (var draft in drafts)
            {
                await draft.DisposeAsync();
            }
        }

        Assert.Equal(40, await ScalarAsync<long>("SELECT count(*) FROM submissions"));
    }

    [Fact]
    public async Task Writing_past_the_floor_is_refused_mid_stream_and_nothing_of_the_submission_is_kept()
    {
        var intake = IntakeWithFloor(FreeBytes() - (16 * DiskClaims.StepBytes));
        var endless = new CountingStream(1L << 30);
        await using (var draft = await intake.StartAsync("default", "web", CancellationToken.None))
        {
            await draft.AddAsync(ItemKind.Message, null, "text/plain", new MemoryStream(RandomBytes(100)), CancellationToken.None);
            var refusal = await Assert.ThrowsAsync<IntakeRefusedException>(() => draft.AddAsync(ItemKind.File, "x.bin", null, endless, CancellationToken.None));
            Assert.Equal(IntakeRefusal.NoRoom, refusal.Reason);
        }

        Assert.InRange(endless.Given, DiskClaims.StepBytes, 16 * DiskClaims.StepBytes);
        Assert.Empty(Directory.GetFiles(_blobDirectory.Path));
        Assert.Equal(0, await ScalarAsync<long>("SELECT count(*) FROM submissions"));
    }

    [Fact]
    public async Task A_draft_is_refused_at_start_when_the_disk_is_already_at_its_floor()
    {
        var intake = IntakeWithFloor(FreeBytes() + (1L << 30));

        var refusal = await Assert.ThrowsAsync<IntakeRefusedException>(() => intake.StartAsync("default", "mail", CancellationToken.None));

        Assert.Equal(IntakeRefusal.NoRoom, refusal.Reason);
        Assert.Empty(Directory.GetFiles(_blobDirectory.Path));
    }

    [Fact]
    public async Task An_item_of_a_post_still_arriving_is_not_swept_however_long_the_rest_takes()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var blobs = IntakeWorld.Blobs(_blobDirectory);
        var intake = new IntakeService(new RecipientStore(_dataSource, TimeProvider.System), blobs, _dataSource, TimeProvider.System);
        var sweep = new OrphanBlobSweep(blobs, _dataSource, clock, NullLogger<OrphanBlobSweep>.Instance);

        await using var draft = await intake.StartAsync("default", "web", CancellationToken.None);
        await draft.AddAsync(ItemKind.Message, null, "text/plain", new MemoryStream(RandomBytes(100)), CancellationToken.None);
        await sweep.RunAsync(CancellationToken.None);
        clock.Now += OrphanBlobSweep.Grace * 2; // the file that follows the message takes two days over a bad link
        var swept = await sweep.RunAsync(CancellationToken.None);
        await draft.AddAsync(ItemKind.File, "x.bin", null, new MemoryStream(RandomBytes(100)), CancellationToken.None);
        var submission = await draft.CommitAsync(CancellationToken.None);

        Assert.Equal(0, swept);
        Assert.Equal(3, (await ItemsAsync(submission)).Count);
    }

    [Fact]
    public async Task A_follow_up_lands_on_the_same_submission_in_its_own_batch_with_its_own_job()
    {
        Guid submission;
        await using (var draft = await _intake.StartAsync("default", "web", CancellationToken.None))
        {
            await draft.AddAsync(ItemKind.Message, null, "text/plain", new MemoryStream("first"u8.ToArray()), CancellationToken.None);
            submission = await draft.CommitAsync(CancellationToken.None);
        }

        await using (var followUp = await _intake.StartFollowUpAsync(submission, CancellationToken.None))
        {
            await followUp.AddAsync(ItemKind.Message, null, "text/plain", new MemoryStream("second"u8.ToArray()), CancellationToken.None);
            Assert.Equal(submission, await followUp.CommitAsync(CancellationToken.None));
        }

        Assert.Equal(1, await ScalarAsync<long>("SELECT count(*) FROM submissions"));
        Assert.Equal(2, await ScalarAsync<long>("SELECT count(DISTINCT batch_id) FROM submission_items"));
        Assert.Equal(2, await ScalarAsync<long>("SELECT count(*) FROM hangfire.job"));
        var messages = (await ItemsAsync(submission)).Where(i => i.Kind == "message").ToList();
        var texts = new List<string>();
        foreach (var item in messages)
        {
            texts.Add(Encoding.UTF8.GetString(await DecryptWithGpgAsync(item.Id)));
        }

        Assert.Equal(["first", "second"], texts.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Blobs_are_readable_by_their_owner_and_group_only_and_all_carry_the_same_modification_time()
    {
        await using (var draft = await _intake.StartAsync("default", "web", CancellationToken.None))
        {
            await draft.AddAsync(ItemKind.Message, null, "text/plain", new MemoryStream(RandomBytes(10)), CancellationToken.None);
            await draft.CommitAsync(CancellationToken.None);
        }

        var files = Directory.GetFiles(_blobDirectory.Path);
        Assert.Equal(2, files.Length);
        Assert.All(files, f => Assert.Equal(BlobStore.FixedModificationTime, File.GetLastWriteTimeUtc(f)));
        Assert.All(files, f => Assert.Equal(BlobStore.FixedModificationTime, File.GetLastAccessTimeUtc(f)));
        Assert.All(files, f => Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(f)));
    }

    // On a disk of its own, so the machine's free space and other writers do not decide where the floor falls.
    private IntakeService IntakeWithFloor(long minimumFreeBytes) =>
        new(new RecipientStore(_dataSource, TimeProvider.System), Blobs.ModelledDisk.Store(_blobDirectory.Path, minimumFreeBytes), _dataSource, TimeProvider.System);

    private long FreeBytes() => Blobs.ModelledDisk.FreeBytes(_blobDirectory.Path);

    private async Task<byte[]> DecryptWithGpgAsync(Guid blob) =>
        (await _gpg.DecryptAsync(Path.Combine(_blobDirectory.Path, blob.ToString("N")))).EnsureSuccess("gpg --decrypt").Output;

    private async Task<List<(Guid Id, string Kind)>> ItemsAsync(Guid submission)
    {
        await using var command = _dataSource.CreateCommand("SELECT id, kind FROM submission_items WHERE submission_id = @id");
        command.Parameters.AddWithValue("id", submission);
        await using var reader = await command.ExecuteReaderAsync();
        var items = new List<(Guid, string)>();
        while (await reader.ReadAsync())
        {
            items.Add((reader.GetGuid(0), reader.GetString(1)));
        }

        return items;
    }

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var command = _dataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var command = _dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    private static byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        Random.Shared.NextBytes(bytes);
        return bytes;
    }

    /// <summary>Hands out up to <paramref name="limit"/> bytes and counts them: a large upload, without the memory.</summary>
    private sealed class CountingStream(long limit) : Stream
    {
        public long Given { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => Given; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var given = (int)Math.Min(count, limit - Given);
            Given += given;
            return given;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>Hands out bytes until a limit, then cancels: an upload whose connection dropped.</summary>
    private sealed class CancelAfterStream(long limit, CancellationTokenSource cancel) : Stream
    {
        private long _given;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _given; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_given >= limit)
            {
                cancel.Cancel();
                cancel.Token.ThrowIfCancellationRequested();
            }

            _given += count;
            return count;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
