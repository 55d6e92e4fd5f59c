using System.Globalization;

namespace SecureIntake.Benchmarks;

/// <summary>
/// CPU time of the whole machine and of each program on it, read from /proc, so that a leg's figure shows whether the
/// cores were full and who filled them (this process, Dovecot's imap processes, PostgreSQL, the kernel's own threads).
/// A program's figure includes the children it reaped (Dovecot's master collects its finished imap processes', the
/// postmaster its backends'), so short-lived ones are not lost.
/// </summary>
internal sealed class SystemCpu
{
    private const double TicksPerSecond = 100; // USER_HZ, 100 on every Linux the benchmark runs on

    private readonly double _busy;
    private readonly double _stolen;
    private readonly double _all;
    private readonly double _uptime;
    private readonly Dictionary<int, Process> _processes;

    private SystemCpu(double busy, double stolen, double all, double uptime, Dictionary<int, Process> processes)
    {
        _busy = busy;
        _stolen = stolen;
        _all = all;
        _uptime = uptime;
        _processes = processes;
    }

    public static SystemCpu Now()
    {
        // cpu  user nice system idle iowait irq softirq steal ...
        var total = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8)
            .Select(v => double.Parse(v, CultureInfo.InvariantCulture) / TicksPerSecond).ToArray();
        var idle = total[3] + total[4];
        var uptime = double.Parse(File.ReadAllText("/proc/uptime").Split(' ')[0], CultureInfo.InvariantCulture);
        var processes = new Dictionary<int, Process>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var open = stat.IndexOf('(', StringComparison.Ordinal);
                var close = stat.LastIndexOf(')');
                var fields = stat[(close + 2)..].Split(' ');
                // After the name: state is field 3, utime 14, stime 15, cutime 16, cstime 17, starttime 22.
                double Seconds(int field) => double.Parse(fields[field - 3], CultureInfo.InvariantCulture) / TicksPerSecond;
                processes[pid] = new Process(stat[(open + 1)..close], Seconds(14) + Seconds(16), Seconds(15) + Seconds(17), Seconds(22));
            }
            catch (IOException)
            {
                // Ended while being read.
            }
        }

        // Steal: time the hypervisor gave this VM's cores to someone else, neither idle nor ours.
        return new SystemCpu(total.Sum() - idle - total[7], total[7], total.Sum(), uptime, processes);
    }

    /// <summary>One line: how busy the machine was between two readings, and the programs that used the most.</summary>
    public static string Describe(SystemCpu before, SystemCpu after)
    {
        var byProgram = new Dictionary<string, (double User, double System)>(StringComparer.Ordinal);
        foreach (var (pid, now) in after._processes)
        {
            (double User, double System) used;
            if (before._processes.TryGetValue(pid, out var earlier) && earlier.StartedAt == now.StartedAt)
            {
                used = (now.User - earlier.User, now.System - earlier.System);
            }
            else if (now.StartedAt >= before._uptime - 1 / TicksPerSecond)
            {
                used = (now.User, now.System); // started in between
            }
            else
            {
                continue; // a pid read only once: nothing to compare
            }

            var (user, system) = byProgram.GetValueOrDefault(Group(now.Program));
            byProgram[Group(now.Program)] = (user + used.User, system + used.System);
        }

        var busy = after._busy - before._busy;
        var accounted = byProgram.Values.Sum(p => p.User + p.System);
        var top = byProgram.OrderByDescending(p => p.Value.User + p.Value.System).Take(5)
            .Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key} {p.Value.User + p.Value.System:F1} ({p.Value.System:F1} in the kernel)"));
        return string.Create(CultureInfo.InvariantCulture,
            $"{busy:F1} core-s busy of {after._all - before._all:F1} ({busy / (after._all - before._all):P0}), {after._stolen - before._stolen:F1} taken by the host: {string.Join(", ", top)}, " +
            $"unaccounted (kernel threads, interrupts) {Math.Max(busy - accounted, 0):F1}");
    }

    private sealed record Process(string Program, double User, double System, double StartedAt);

    private static string Group(string program) => program switch
    {
        _ when program.StartsWith("postgres", StringComparison.Ordinal) => "postgres",
        _ when program.StartsWith("kworker", StringComparison.Ordinal) || program.StartsWith("jbd2", StringComparison.Ordinal) => "kworker/jbd2",
        "imap" or "dovecot" or "index" or "indexer" or "indexer-worker" or "log" or "config" or "anvil" or "auth" => "dovecot",
        _ => program,
    };
}
