namespace SecureIntake.Core.Blobs;

/// <summary>A blob being written. <see cref="SealAsync"/> makes it durable; disposing an unsealed one deletes it.</summary>
public sealed class PendingBlob : IAsyncDisposable
{
    private readonly string _path;
    private readonly string _directory;
    private readonly FileStream _stream;
    private bool _sealed;

    internal PendingBlob(Guid id, string path, FileStream stream, string directory)
    {
        Id = id;
        _path = path;
        _stream = stream;
        _directory = directory;
    }

    public Guid Id { get; }

    /// <summary>Where the ciphertext goes. Never write plaintext here.</summary>
    public Stream Content => _stream;

    /// <summary>Flushes the file and its directory entry to disk and returns the blob's size in bytes.</summary>
    public async Task<long> SealAsync(CancellationToken cancellationToken)
    {
        await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        // Times first, so that the fsync makes them durable too (ctime still records the write: see README).
        File.SetLastWriteTimeUtc(_path, BlobStore.FixedModificationTime);
        File.SetLastAccessTimeUtc(_path, BlobStore.FixedModificationTime);
        _stream.Flush(flushToDisk: true);
        var length = _stream.Length;
        await _stream.DisposeAsync().ConfigureAwait(false);
        Durability.FlushDirectory(_directory);
        _sealed = true;
        return length;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            // Closing flushes the buffered tail, which fails exactly when the disk is full.
            await _stream.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            if (!_sealed)
            {
                File.Delete(_path);
            }
        }
    }
}
