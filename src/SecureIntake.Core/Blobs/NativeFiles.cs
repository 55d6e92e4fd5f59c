using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace SecureIntake.Core.Blobs;

/// <summary>
/// The libc calls behind disk claims and blob locks that .NET does not offer: flock, fallocate, ftruncate,
/// and open for a directory or an unnamed file. Locks are taken explicitly, not left to FileShare.None, so
/// they hold even where .NET's own file locking is turned off (DOTNET_SYSTEM_IO_DISABLEFILELOCKING).
/// </summary>
internal static partial class NativeFiles
{
    public const int NoSpace = 28; // ENOSPC
    public const int QuotaExceeded = 122; // EDQUOT
    public const int NotSupported = 95; // EOPNOTSUPP, the same on x86-64 and arm64

    private const int ReadOnlyCloseOnExec = 0x80000; // O_RDONLY | O_CLOEXEC
    private const int Exclusive = 2; // LOCK_EX
    private const int NonBlocking = 4; // LOCK_NB
    private const int Unlock = 8; // LOCK_UN
    private const int Interrupted = 4; // EINTR
    private const int WouldBlock = 11; // EWOULDBLOCK
    private const int NoSuchFile = 2; // ENOENT
    private const int KeepSize = 1; // FALLOC_FL_KEEP_SIZE

    /// <summary>Opens a directory to lock (<see cref="LockExclusive"/>) as often as needed.</summary>
    public static SafeFileHandle OpenDirectory(string directory) =>
        Open(directory, ReadOnlyCloseOnExec) ?? throw new IOException($"cannot open directory '{directory}' to lock it (errno {Marshal.GetLastPInvokeError()})");

    /// <summary>
    /// Waits for the exclusive lock on an open file or directory; disposing the result releases it, the file stays open.
    /// flock locks belong to the open file, so threads sharing one handle must also take turns among themselves.
    /// </summary>
    public static HeldLock LockExclusive(SafeFileHandle handle, string path)
    {
        LockOrThrow(handle, Exclusive, path);
        return new HeldLock(handle);
    }

    /// <summary>An flock held on an open file until disposed.</summary>
    public readonly struct HeldLock(SafeFileHandle handle) : IDisposable
    {
        public void Dispose() => _ = flock(handle, Unlock);
    }

    /// <summary>Marks a blob being written as in use, for as long as its handle stays open.</summary>
    public static void HoldExclusive(SafeFileHandle file, string path)
    {
        if (flock(file, Exclusive | NonBlocking) != 0)
        {
            throw new IOException($"cannot lock the new blob '{path}' (errno {Marshal.GetLastPInvokeError()})");
        }
    }

    /// <summary>
    /// The file at <paramref name="path"/>, opened and exclusively locked when nobody else holds it; null with
    /// <paramref name="held"/> true when someone does, null with it false when there is no such file.
    /// </summary>
    public static SafeFileHandle? TryLockExisting(string path, out bool held)
    {
        held = false;
        var handle = Open(path, ReadOnlyCloseOnExec);
        if (handle is null)
        {
            var errno = Marshal.GetLastPInvokeError();
            return errno == NoSuchFile ? null : throw new IOException($"cannot open '{path}' to lock it (errno {errno})");
        }

        int result;
        while ((result = flock(handle, Exclusive | NonBlocking)) != 0 && Marshal.GetLastPInvokeError() == Interrupted)
        {
        }

        if (result == 0)
        {
            return handle;
        }

        var lockErrno = Marshal.GetLastPInvokeError();
        handle.Dispose();
        held = lockErrno == WouldBlock;
        return held ? null : throw new IOException($"cannot lock '{path}' (errno {lockErrno})");
    }

    /// <summary>Allocates <paramref name="length"/> bytes from <paramref name="offset"/> without changing the file's size; 0 or an errno.</summary>
    public static int Preallocate(SafeFileHandle file, long offset, long length)
    {
        while (true)
        {
            if (fallocate(file, KeepSize, offset, length) == 0)
            {
                return 0;
            }

            var error = Marshal.GetLastPInvokeError();
            if (error != Interrupted)
            {
                return error;
            }
        }
    }

    /// <summary>Sets a file's access and modification times together, in one call on the open file.</summary>
    public static void SetTimes(SafeFileHandle file, DateTime utc, string path)
    {
        var sinceEpoch = utc - DateTime.UnixEpoch;
        var seconds = sinceEpoch.Ticks / TimeSpan.TicksPerSecond;
        var nanoseconds = sinceEpoch.Ticks % TimeSpan.TicksPerSecond * 100;
        // Two struct timespec (access, then modification): two 64-bit fields each on 64-bit Linux.
        ReadOnlySpan<long> times = [seconds, nanoseconds, seconds, nanoseconds];
        if (futimens(file, times) != 0)
        {
            throw new IOException($"cannot set the times of '{path}' (errno {Marshal.GetLastPInvokeError()})");
        }
    }

    /// <summary>Cuts the file to <paramref name="length"/>, freeing what was allocated past its end.</summary>
    public static void Truncate(SafeFileHandle file, long length, string path)
    {
        if (ftruncate(file, length) != 0)
        {
            throw new IOException($"cannot truncate '{path}' (errno {Marshal.GetLastPInvokeError()})");
        }
    }

    /// <summary>
    /// Whether the directory's file system preallocates: tried on an unnamed file (O_TMPFILE) that vanishes on
    /// close, so nothing appears among the blobs. Null when that cannot be told here.
    /// </summary>
    public static bool? CanPreallocate(string directory)
    {
        // O_TMPFILE | O_WRONLY | O_CLOEXEC; O_TMPFILE includes O_DIRECTORY, whose value differs between the two.
        var flags = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => 0x410000 | 1 | 0x80000,
            Architecture.Arm64 => 0x404000 | 1 | 0x80000,
            _ => 0,
        };
        if (flags == 0)
        {
            return null;
        }

        var descriptor = open(directory, flags, 0x180); // 0600
        if (descriptor < 0)
        {
            return null;
        }

        using var handle = new SafeFileHandle(descriptor, ownsHandle: true);
        return Preallocate(handle, 0, 4096) switch
        {
            0 => true,
            NotSupported => false,
            _ => null,
        };
    }

    private static SafeFileHandle? Open(string path, int flags)
    {
        var descriptor = open(path, flags, 0);
        return descriptor < 0 ? null : new SafeFileHandle(descriptor, ownsHandle: true);
    }

    private static void LockOrThrow(SafeFileHandle handle, int operation, string path)
    {
        while (flock(handle, operation) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno != Interrupted)
            {
                throw new IOException($"cannot lock '{path}' (errno {errno})");
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int flock(SafeFileHandle file, int operation);

    [LibraryImport("libc", EntryPoint = "fallocate", SetLastError = true)]
    private static partial int fallocate(SafeFileHandle file, int mode, long offset, long length);

    [LibraryImport("libc", EntryPoint = "futimens", SetLastError = true)]
    private static partial int futimens(SafeFileHandle file, ReadOnlySpan<long> times);

    [LibraryImport("libc", EntryPoint = "ftruncate", SetLastError = true)]
    private static partial int ftruncate(SafeFileHandle file, long length);
}
