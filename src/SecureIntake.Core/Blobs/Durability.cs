using System.Runtime.InteropServices;

namespace SecureIntake.Core.Blobs;

/// <summary>
/// What .NET does not offer: fsync of a directory, so that a new file's name survives a crash as well as
/// its bytes. Plain libc calls.
/// </summary>
internal static partial class Durability
{
    // O_RDONLY | O_CLOEXEC: the same value on x86-64 and arm64 (O_DIRECTORY is not, and fsync does not need it).
    private const int ReadOnlyCloseOnExec = 0x80000;

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

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int fsync(int descriptor);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int close(int descriptor);
}
