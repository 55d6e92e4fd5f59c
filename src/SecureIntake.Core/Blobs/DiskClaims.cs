using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace SecureIntake.Core.Blobs;

/// <summary>
/// Disk room for blobs, claimed a step at a time as ciphertext arrives and counted once per host. Each step is
/// preallocated past the file's end (fallocate with FALLOC_FL_KEEP_SIZE), so the kernel's free-space figure,
/// which every process reads, already counts every process's claims; the check against the floor and the
/// allocation happen under an exclusive flock on the blob directory, so no two processes take the last step.
/// </summary>
internal sealed partial class DiskClaims
{
    private readonly string _directory;
    private readonly long _minimumFreeBytes;
    private readonly ILogger _logger;
    private readonly Func<string, long> _freeBytesOf;
    private volatile bool _preallocates = true;

    // The directory stays open for the store's life (opening it for every claim was a twentieth of the mail gateway's
    // encrypting time); its SafeHandle closes it when the store goes. The flock on it keeps other processes out, the
    // in-process lock this process's threads, since they share the one open directory.
    private readonly Lock _claimTurn = new();
    private SafeFileHandle? _directoryHandle;

    /// <param name="freeBytesOf">The free space of the directory's file system; the kernel's figure unless a test models a disk of its own.</param>
    public DiskClaims(string directory, long minimumFreeBytes, ILogger logger, Func<string, long>? freeBytesOf = null)
    {
        _directory = directory;
        _freeBytesOf = freeBytesOf ?? (d => new DriveInfo(d).AvailableFreeSpace);
        _minimumFreeBytes = minimumFreeBytes;
        _logger = logger;
        if (NativeFiles.CanPreallocate(directory) == false)
        {
            StopPreallocating();
        }
    }

    /// <summary>
    /// Room is claimed this much at a time. Small, so that a post whose bytes trickle in holds little (a
    /// thousand of them at most 4 GiB) and the lock is held briefly (on tmpfs fallocate clears the pages, about
    /// 0.5 ms a MiB); large enough that a claim (10 to 50 microseconds on ext4 here) comes only 256 times a GiB.
    /// </summary>
    public const long StepBytes = 4L << 20;

    public long FreeBytes => _freeBytesOf(_directory);

    /// <summary>Whether a new upload can take its first step without going below the floor.</summary>
    public bool HasRoomForAStep => FreeBytes - StepBytes >= _minimumFreeBytes;

    /// <summary>Claims the bytes <paramref name="offset"/> to <paramref name="offset"/> + <paramref name="length"/> of a blob; false below the floor.</summary>
    public bool TryClaim(SafeFileHandle file, long offset, long length)
    {
        lock (_claimTurn)
        {
            _directoryHandle ??= NativeFiles.OpenDirectory(_directory);
            using var directoryLock = NativeFiles.LockExclusive(_directoryHandle, _directory);
            return TryClaimLocked(file, offset, length);
        }
    }

    private bool TryClaimLocked(SafeFileHandle file, long offset, long length)
    {
        if (FreeBytes - length < _minimumFreeBytes)
        {
            return false;
        }

        if (!_preallocates)
        {
            return true;
        }

        switch (NativeFiles.Preallocate(file, offset, length))
        {
            case 0:
                return true;
            case NativeFiles.NoSpace or NativeFiles.QuotaExceeded:
                return false;
            case NativeFiles.NotSupported:
                StopPreallocating();
                return true;
            case var errno:
                throw new IOException($"cannot claim disk room for a blob (errno {errno})");
        }
    }

    private void StopPreallocating()
    {
        _preallocates = false;
        LogCannotPreallocate(_logger);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The blob directory's file system cannot preallocate (fallocate): disk room is checked "
        + "against Storage:MinimumFreeBytes under a lock but not set aside, so uploads in several processes can together go below it")]
    private static partial void LogCannotPreallocate(ILogger logger);
}
