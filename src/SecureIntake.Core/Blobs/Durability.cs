using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace SecureIntake.Core.Blobs;

/// <summary>
/// What .NET does not offer: fsync of a directory, so that a new file's name survives a crash as well as
/// its bytes. Plain libc calls.
/// </summary>
internal static partial class Durability
{
    // O_RDONLY | O_CLOEXEC: the same value on x86-64 and arm64 (O_DIRECTORY is not, and fsync does not need it).
    private const int ReadOnlyCloseOnExec = 0x80000;

    private const uint WriteDirtyPages = 2; // SYNC_FILE_RANGE_WRITE

    public static void FlushDirectory(string directory)
    {
        var descriptor = open(directory, ReadOnlyCloseOnExec);
        if (descriptor < 0)
        {
            throw new IOException($"cannot open directory '{directory}' to flush it (errno {Marshal.GetLastPInvokeError()})");
        }

        try
        {
            if (fsync(descriptor) != 0)
            {
                throw new IOException($"fsync of directory '{directory}' failed (errno {Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            _ = close(descriptor);
        }
    }

    /// <summary>
    /// Starts writing a file's dirty pages out without waiting (sync_file_range, SYNC_FILE_RANGE_WRITE), so that a later
    /// fsync of many files finds their data on its way and mostly waits for one journal commit. Only a head start:
    /// durability still comes from the fsync. Where the call is missing it does nothing.
    /// </summary>
    public static void StartWriteback(SafeFileHandle file)
    {
        try
        {
            _ = sync_file_range(file, 0, 0, WriteDirtyPages);
        }
        catch (EntryPointNotFoundException)
        {
            // Not Linux: the fsync does all the work.
        }
    }

    [LibraryImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
    private static partial int sync_file_range(SafeFileHandle file, long offset, long count, uint flags);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int fsync(int descriptor);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int close(int descriptor);
}
