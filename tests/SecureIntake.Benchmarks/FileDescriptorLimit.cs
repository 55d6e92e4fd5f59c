using System.Runtime.InteropServices;

namespace SecureIntake.Benchmarks;

/// <summary>
/// The soft limit on open files (RLIMIT_NOFILE), raised towards the hard limit when a run needs more sockets than
/// it allows. Child processes started afterwards, the server among them, inherit the raised limit.
/// </summary>
internal static partial class FileDescriptorLimit
{
    private const int ResourceOpenFiles = 7; // RLIMIT_NOFILE on Linux x86-64 and arm64

    /// <summary>Raises the soft limit to at least <paramref name="needed"/> where the hard limit allows; returns both after.</summary>
    public static (ulong Soft, ulong Hard) RaiseTo(ulong needed)
    {
        if (getrlimit(ResourceOpenFiles, out var limit) != 0)
        {
            throw new InvalidOperationException($"getrlimit failed (errno {Marshal.GetLastPInvokeError()})");
        }

        if (limit.Soft < needed)
        {
            var raised = limit with { Soft = Math.Min(needed, limit.Hard) };
            if (setrlimit(ResourceOpenFiles, in raised) != 0)
            {
                throw new InvalidOperationException($"setrlimit failed (errno {Marshal.GetLastPInvokeError()})");
            }

            limit = raised;
        }

        return (limit.Soft, limit.Hard);
    }

    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct ResourceLimit(ulong Soft, ulong Hard);

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int getrlimit(int resource, out ResourceLimit limit);

    [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static partial int setrlimit(int resource, in ResourceLimit limit);
}
