using Microsoft.Win32.SafeHandles;

namespace SecureIntake.Core.Blobs;

/// <summary>
/// A blob being written. Disk room is claimed step by step as its bytes arrive (<see cref="DiskClaims"/>),
/// and the file stays exclusively locked until the blob is disposed, sealed or not, so the orphan sweep
/// leaves it alone however slowly it arrives. <see cref="SealAsync"/> makes it durable; disposing an
/// unsealed one deletes it. A blob of a group commit (<see cref="DurableLater"/>) is sealed without the fsyncs,
/// which <see cref="MakeDurableAsync"/> then does for the whole group: one directory fsync instead of one per file.
/// </summary>
public sealed class PendingBlob : IAsyncDisposable
{
    // The usual file system block: a claim rounded to it leaves nothing whole to free past the end.
    private const long BlockBytes = 4096;

    // fsyncs waiting at once; more gained nothing measurable on ext4 over a virtual disk.
    private const int FsyncLanes = 16;

    private readonly string _path;
    private readonly string _directory;
    private readonly FileStream _file;
    private readonly SafeFileHandle _handle;
    private readonly DiskClaims _claims;
    private long _written;
    private long _claimed;
    private bool _sealed;

    internal PendingBlob(Guid id, string path, string directory, FileStream file, SafeFileHandle handle, DiskClaims claims)
    {
        Id = id;
        _path = path;
        _directory = directory;
        _file = file;
        _handle = handle;
        _claims = claims;
        Content = new ClaimingStream(this);
    }

    public Guid Id { get; }

    /// <summary>
    /// Set before sealing to leave the fsyncs to <see cref="MakeDurableAsync"/>: sealing then only starts the write-out.
    /// Nothing may be committed that names such a blob until <see cref="IsDurable"/>.
    /// </summary>
    public bool DurableLater { get; set; }

    /// <summary>Whether the file and its directory entry are on disk.</summary>
    public bool IsDurable { get; private set; }

    /// <summary>Where the ciphertext goes. Never write plaintext here.</summary>
    public Stream Content { get; }

    /// <summary>
    /// Flushes the file and its directory entry to disk, gives back the room claimed past its end and returns
    /// the blob's size in bytes. The file stays locked until the blob is disposed.
    /// </summary>
    public Task<long> SealAsync(CancellationToken cancellationToken)
    {
        ThrowIfSealed();
        cancellationToken.ThrowIfCancellationRequested();
        _file.Flush(); // the buffered tail into the page cache, synchronously like every write (see ClaimingStream.WriteAsync)
        // Gives back whole blocks claimed past the end. Most blobs of a mail batch end in the last block they claimed, and
        // have none to give back; for them the call would only cost an ext4 truncate. Before the times: truncating sets them too.
        if (_claimed > (_written + BlockBytes - 1) / BlockBytes * BlockBytes)
        {
            NativeFiles.Truncate(_handle, _written, _path);
        }
        // Times before the fsync, so that it makes them durable too (ctime still records the write: see README).
        NativeFiles.SetTimes(_handle, BlobStore.FixedModificationTime, _path);
        if (DurableLater)
        {
            Durability.StartWriteback(_handle);
        }
        else
        {
            _file.Flush(flushToDisk: true);
            Durability.FlushDirectory(_directory);
            IsDurable = true;
        }

        _sealed = true;
        return Task.FromResult(_written);
    }

    /// <summary>
    /// Makes sealed blobs durable together: the files fsynced side by side on a few threads of their own (the write-out
    /// began at sealing, and the file system folds fsyncs that wait at once into one journal commit, about ten times
    /// faster here than one after another), then each directory they are in once, so that their names survive a crash too.
    /// </summary>
    public static async Task MakeDurableAsync(IReadOnlyCollection<PendingBlob> blobs)
    {
        ArgumentNullException.ThrowIfNull(blobs);
        if (blobs.FirstOrDefault(b => !b._sealed) is { } unsealed)
        {
            throw new InvalidOperationException($"blob {unsealed.Id} is not sealed: only a whole blob can be made durable");
        }

        var pending = blobs.Where(b => !b.IsDurable).ToList();
        if (pending.Count == 0)
        {
            return;
        }

        // Dedicated threads, not the pool's: a pool of two threads blocked in fsync would grow only slowly.
        var lanes = Math.Min(FsyncLanes, pending.Count);
        await Task.WhenAll(Enumerable.Range(0, lanes).Select(lane => Task.Factory.StartNew(
            () =>
            {
                for (var i = lane; i < pending.Count; i += lanes)
                {
                    pending[i]._file.Flush(flushToDisk: true);
                }
            },
            CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default))).ConfigureAwait(false);

        foreach (var directory in pending.Select(b => b._directory).Distinct(StringComparer.Ordinal))
        {
            Durability.FlushDirectory(directory);
        }

        foreach (var blob in pending)
        {
            blob.IsDurable = true;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            // Closing flushes the buffered tail of an unsealed blob, within room already claimed.
            await _file.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            if (!_sealed)
            {
                File.Delete(_path);
            }
        }
    }

    private void ClaimRoomFor(int count)
    {
        ThrowIfSealed();
        var end = _written + count;
        if (end <= _claimed)
        {
            return;
        }

        // A batch's blobs are mostly small emails and manifests: below one step they claim to the file system block, not
        // the whole step, because freeing preallocated blocks past the end at sealing costs milliseconds a file on ext4
        // (more with online discard), while a claim costs tens of microseconds.
        var granule = DurableLater && end < DiskClaims.StepBytes ? BlockBytes : DiskClaims.StepBytes;
        var upTo = (end + granule - 1) / granule * granule;
        if (!_claims.TryClaim(_handle, _claimed, upTo - _claimed))
        {
            throw new NoDiskRoomException();
        }

        _claimed = upTo;
    }

    private void ThrowIfSealed()
    {
        if (_sealed)
        {
            throw new InvalidOperationException("a sealed blob cannot change");
        }
    }

    /// <summary>Writes through to the file once the room for the bytes is claimed.</summary>
    private sealed class ClaimingStream(PendingBlob blob) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => !blob._sealed;

        public override long Length => blob._written;

        public override long Position
        {
            get => blob._written;
            set => throw new NotSupportedException();
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            blob.ClaimRoomFor(buffer.Length);
            blob._file.Write(buffer);
            blob._written += buffer.Length;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        /// <summary>
        /// Written synchronously: a write into the page cache, which on Linux FileStream's asynchronous path only hands to
        /// another pool thread to make the same blocking call (a hop per 64 KiB, and the mail gateway's encryption threads
        /// would each wait for the pool).
        /// </summary>
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override void Flush() => blob._file.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken)
        {
            blob._file.Flush();
            return Task.CompletedTask;
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}

/// <summary>Writing on would leave less free disk space than Storage:MinimumFreeBytes.</summary>
internal sealed class NoDiskRoomException() : IOException("free disk space would fall below Storage:MinimumFreeBytes");
