using System.Runtime.InteropServices;

namespace SecureIntake.Benchmarks;

/// <summary>
/// CPU time (user + system) of all finished child processes, from getrusage(RUSAGE_CHILDREN): the
/// difference around one child run is that child's CPU cost, which wall time on a busy VM blurs.
/// </summary>
internal static partial class ChildCpuTime
{
    private const int RusageChildren = -1;

    public static TimeSpan Total()
    {
        // struct rusage on 64-bit Linux: two timevals (seconds, microseconds), then fourteen longs.
        Span<long> usage = stackalloc long[18];
        if (getrusage(RusageChildren, usage) != 0)
        {
            throw new InvalidOperationException("getrusage failed");
        }

        return TimeSpan.FromSeconds(usage[0] + usage[2]) + TimeSpan.FromMicroseconds(usage[1] + usage[3]);
    }

    [LibraryImport("libc", EntryPoint = "getrusage")]
    private static partial int getrusage(int who, Span<long> usage);
}
