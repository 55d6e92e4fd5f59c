using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using SecureIntake.Core.Blobs;
using SecureIntake.Testing;

namespace SecureIntake.Core.Tests.Blobs;

public sealed class OrphanBlobSweepTests : IAsyncLifetime, IDisposable
{
    private readonly TemporaryDirectory _directory = new("si-sweep-");
    private readonly ManualClock _clock = new(DateTimeOffset.UtcNow);
    private NpgsqlDataSource _dataSource = null!;
    private BlobStore _blobs = null!;
    private OrphanBlobSweep _sweep = null!;

    public async Task InitializeAsync()
    {
        _dataSource = await CoreDatabase.CreateAsync();
        _blobs = new BlobStore(Options.Create(new BlobStoreOptions { BlobDirectory = _directory.Path, MinimumFreeBytes = 0 }));
        _sweep = new OrphanBlobSweep(_blobs, _dataSource, _clock, NullLogger<OrphanBlobSweep>.Instance);
    }

    public async Task DisposeAsync() => await _dataSource.DisposeAsync();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task An_orphan_is_deleted_only_after_it_stayed_orphaned_through_the_grace_period()
    {
        var orphan = await WriteBlobAsync();

        var first = await _sweep.RunAsync(CancellationToken.None);
        _clock.Now += OrphanBlobSweep.Grace - TimeSpan.FromMinutes(1);
        var beforeGrace = await _sweep.RunAsync(CancellationToken.None);
        _clock.Now += TimeSpan.FromMinutes(2);
        var afterGrace = await _sweep.RunAsync(CancellationToken.None);

        Assert.Equal([0, 0, 1], new[] { first, beforeGrace, afterGrace });
        Assert.Equal(-1, _blobs.Length(orphan));
    }

    [Fact]
    public async Task A_blob_whose_submission_commits_meanwhile_is_kept()
    {
        var blob = await WriteBlobAsync();
        await _sweep.RunAsync(CancellationToken.None);

        // The upload finishes after the first sweep saw its blob without a row.
        await ExecuteAsync("""
            INSERT INTO submissions (id, desk_id, channel, received_at, witness_active_at)
            SELECT @submission, id, 'web', date_trunc('minute', now()), date_trunc('minute', now()) FROM desks;
            INSERT INTO submission_items (id, submission_id, batch_id, author, kind, ciphertext_bytes, added_at)
            VALUES (@blob, @submission, gen_random_uuid(), 'witness', 'message', 10, date_trunc('minute', now()));
            """, ("submission", Guid.NewGuid()), ("blob", blob));
        _clock.Now += OrphanBlobSweep.Grace * 2;

        Assert.Equal(0, await _sweep.RunAsync(CancellationToken.None));
        Assert.Equal(10, _blobs.Length(blob));
        await using var candidates = _dataSource.CreateCommand("SELECT count(*) FROM orphan_blob_candidates");
        Assert.Equal(0L, await candidates.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_blob_still_being_written_is_not_swept_however_long_its_upload_takes()
    {
        await using var arriving = _blobs.Create();
        await arriving.Content.WriteAsync(new byte[10]);
        await arriving.Content.FlushAsync();

        await _sweep.RunAsync(CancellationToken.None);
        _clock.Now += OrphanBlobSweep.Grace * 3;
        var whileWriting = await _sweep.RunAsync(CancellationToken.None);
        await arriving.Content.WriteAsync(new byte[10]);
        await arriving.SealAsync(CancellationToken.None);
        var stillHeld = await _sweep.RunAsync(CancellationToken.None);
        await arriving.DisposeAsync(); // its writer gave up without committing: now it is an orphan like any other
        var released = await _sweep.RunAsync(CancellationToken.None);

        Assert.Equal([0, 0, 1], new[] { whileWriting, stillHeld, released });
        Assert.Equal(-1, _blobs.Length(arriving.Id));
    }

    private async Task<Guid> WriteBlobAsync()
    {
        await using var blob = _blobs.Create();
        await blob.Content.WriteAsync(new byte[10]);
        await blob.SealAsync(CancellationToken.None);
        return blob.Id;
    }

    private async Task ExecuteAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var command = _dataSource.CreateCommand(sql);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        await command.ExecuteNonQueryAsync();
    }
}
