using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Win32.SafeHandles;

namespace SecureIntake.Core.Blobs;

/// <summary>
/// Encrypted items as files named by random 128-bit ids. Only ciphertext ever reaches this directory:
/// callers write through the OpenPGP encrypting stream into <see cref="PendingBlob.Content"/>. A blob is
/// durable once sealed (file and directory fsynced); one that is never sealed is deleted again. Disk room
/// is claimed as ciphertext arrives, counted for every process on the host (<see cref="DiskClaims"/>).
/// </summary>
public sealed class BlobStore
{
    /// <summary>Every blob gets this modification time, so the disk does not tell when each one arrived.</summary>
    public static readonly DateTime FixedModificationTime = new(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private const int WriteBufferBytes = 1 << 16;

    private readonly string _directory;
    private readonly DiskClaims _claims;

    public BlobStore(IOptions<BlobStoreOptions> options, ILogger<BlobStore> logger)
        : this(options, logger, freeBytesOf: null)
    {
    }

    /// <summary>For tests whose outcome must not depend on how much the machine's disk has free, or on who else writes to it.</summary>
    internal BlobStore(IOptions<BlobStoreOptions> options, ILogger<BlobStore> logger, Func<string, long>? freeBytesOf)
    {
        ArgumentNullException.ThrowIfNull(options);
        _directory = options.Value.BlobDirectory;
        _claims = new DiskClaims(_directory, options.Value.MinimumFreeBytes, logger, freeBytesOf);
    }

    public BlobStore(IOptions<BlobStoreOptions> options)
        : this(options, NullLogger<BlobStore>.Instance)
    {
    }

    /// <summary>Whether a new upload can start: free space is at least Storage:MinimumFreeBytes and one step of room.</summary>
    public bool HasRoomToStart => _claims.HasRoomForAStep;

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
            // Group-readable: the web and worker roles run as two users sharing the directory's group (setgid), and
            // each reads what the other wrote; the directory's own mode decides whether anyone else gets that far.
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead,
        });
        try
        {
            var handle = stream.SafeFileHandle; // taken once, while the buffer is empty: every read of it flushes
            NativeFiles.HoldExclusive(handle, path);
            return new PendingBlob(id, path, _directory, stream, handle, _claims);
        }
        catch
        {
            stream.Dispose();
            File.Delete(path);
            throw;
        }
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
        ThrowIfAny(failures);
    }

    /// <summary>
    /// Removes the blobs no process holds open, for the orphan sweep: a blob still being written (or sealed in a
    /// draft that has not committed yet) stays locked by its writer and is left alone. Returns those removed or
    /// already gone.
    /// </summary>
    public async Task<IReadOnlyList<Guid>> DeleteUnlessHeldAsync(IEnumerable<Guid> ids, Func<IReadOnlyList<Guid>, Task<ISet<Guid>>> stillOrphaned)
    {
        var locked = new Dictionary<Guid, SafeFileHandle>();
        var deleted = new List<Guid>();
        var failures = new List<Exception>();
        try
        {
            foreach (var id in ids)
            {
                try
                {
                    if (NativeFiles.TryLockExisting(PathOf(id), out var held) is { } handle)
                    {
                        locked[id] = handle;
                    }
                    else if (!held)
                    {
                        deleted.Add(id); // already gone
                    }
                }
                catch (IOException e)
                {
                    failures.Add(e);
                }
            }

            // Asked again while every writer is locked out: a slow upload may have committed since the sweep looked.
            var orphaned = locked.Count == 0 ? new HashSet<Guid>() : await stillOrphaned([.. locked.Keys]).ConfigureAwait(false);
            foreach (var id in locked.Keys.Where(orphaned.Contains))
            {
                try
                {
                    // Unlinked while locked, so no writer can take it between the check and the delete.
                    File.Delete(PathOf(id));
                    deleted.Add(id);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    failures.Add(e);
                }
            }
        }
        finally
        {
            foreach (var handle in locked.Values)
            {
                handle.Dispose();
            }
        }

        Durability.FlushDirectory(_directory);
        ThrowIfAny(failures);
        return deleted;
    }

    /// <summary>Ids of every blob on disk, for the orphan sweep (which cannot go by file times: they are fixed).</summary>
    public IEnumerable<Guid> List() =>
        Directory.EnumerateFiles(_directory)
            .Select(path => Guid.TryParseExact(Path.GetFileName(path), "N", out var id) ? id : Guid.Empty)
            .Where(id => id != Guid.Empty);

    private static void ThrowIfAny(List<Exception> failures)
    {
        if (failures.Count > 0)
        {
            throw new AggregateException("some blobs could not be deleted", failures);
        }
    }

    private string PathOf(Guid id) => Path.Combine(_directory, id.ToString("N"));
}
