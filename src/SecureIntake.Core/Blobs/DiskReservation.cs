namespace SecureIntake.Core.Blobs;

/// <summary>Room set aside for one submission in progress; disposing gives it back.</summary>
public sealed class DiskReservation : IDisposable
{
    private readonly BlobStore _store;
    private long _bytes;

    internal DiskReservation(BlobStore store, long bytes)
    {
        _store = store;
        _bytes = bytes;
    }

    public void Dispose()
    {
        var bytes = Interlocked.Exchange(ref _bytes, 0);
        if (bytes != 0)
        {
            _store.Release(bytes);
        }
    }
}
