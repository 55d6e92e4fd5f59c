using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace SecureIntake.Core.Blobs;

/// <summary>
/// Encrypted items as files named by random 128-bit ids. Only ciphertext ever reaches this directory:
/// callers write through the OpenPGP encrypting stream into <see cref="PendingBlob.Content"/>. A blob is
/// durable once sealed (file and directory fsynced); one that is never sealed is deleted again.
/// </summary>
public sealed class BlobStore(IOptions<BlobStoreOptions> options)
{
    /// <summary>Every blob gets this modification time, so the disk does not tell when each one arrived.</summary>
    public static readonly DateTime FixedModificationTime = new(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private const int WriteBufferBytes = 1 << 16;

    private readonly string _directory = options.Value.BlobDirectory;
    private readonly long _minimumFreeBytes = options.Value.MinimumFreeBytes;

    private readonly Lock _reservationLock = new();
    private long _reserved;

    /// <summary>
    /// Sets aside room for a submission of up to <paramref name="bytes"/> before any of it is read, counting
    /// what uploads in progress have already set aside: twenty uploads started on a nearly full disk must not
    /// each see the same free space. Null when it would leave less than Storage:MinimumFreeBytes.
    /// </summary>
    public DiskReservation? TryReserve(long bytes)
    {
        lock (_reservationLock)
        {
            var free = new DriveInfo(_directory).AvailableFreeSpace - _reserved;
            if (free - bytes < _minimumFreeBytes)
            {
                return null;
            }

            _reserved += bytes;
            return new DiskReservation(this, bytes);
        }
    }

    internal void Release(long bytes)
    {
        lock (_reservationLock)
        {
            _reserved -= bytes;
        }
    }

    public PendingBlob Create()
    {
        var id = new Guid(RandomNumberGenerator.GetBytes(16));
        var path = PathOf(id);
        var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            BufferSize = WriteBufferBytes,
            Options = FileOptions.Asynchronous,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        return new PendingBlob(id, path, stream, _directory);
    }

    /// <summary>Reads a blob's ciphertext, to decrypt or hand out as it is.</summary>
    public FileStream OpenRead(Guid id) =>
        new(PathOf(id), FileMode.Open, FileAccess.Read, FileShare.Read, WriteBufferBytes, FileOptions.Asynchronous | FileOptions.SequentialScan);

    /// <summary>The blob's size in bytes, or -1 when it is not there.</summary>
    public long Length(Guid id)
    {
        var info = new FileInfo(PathOf(id));
        return info.Exists ? info.Length : -1;
    }

    /// <summary>Removes blobs (after a failed commit, or when their submission is deleted); missing ones are fine.</summary>
    public void Delete(IEnumerable<Guid> ids)
    {
        var failures = new List<Exception>();
        foreach (var id in ids)
        {
            try
            {
                File.Delete(PathOf(id));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                failures.Add(e);
            }
        }

        Durability.FlushDirectory(_directory);
        if (failures.Count > 0)
        {
            throw new AggregateException("some blobs could not be deleted", failures);
        }
    }

    /// <summary>Ids of every blob on disk, for the orphan sweep (which cannot go by file times: they are fixed).</summary>
    public IEnumerable<Guid> List() =>
        Directory.EnumerateFiles(_directory)
            .Select(path => Guid.TryParseExact(Path.GetFileName(path), "N", out var id) ? id : Guid.Empty)
            .Where(id => id != Guid.Empty);

    private string PathOf(Guid id) => Path.Combine(_directory, id.ToString("N"));
}
