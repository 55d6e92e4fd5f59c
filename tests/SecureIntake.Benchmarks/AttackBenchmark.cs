using System.Diagnostics;
using System.Net;
using SecureIntake.Testing;

namespace SecureIntake.Benchmarks;

/// <summary>
/// The witness form under attack, against one `secureintake web` with durable storage: honest submissions (a form,
/// a message, a 1 MiB file) first alone, then while hostile connections hold the form (idle after the headers,
/// idle after a boundary line, dribbling, re-posting one token). It measures whatever the server does: it prints
/// how many honest submissions got through and how fast, the server's memory, and what each hostile kind got.
/// </summary>
internal static class AttackBenchmark
{
    private const int WarmUpSubmissions = 16;
    private static readonly TimeSpan RampLimit = TimeSpan.FromSeconds(30);

    public static async Task<int> RunAsync(string[] arguments)
    {
        var hostile = EncryptBenchmark.Option(arguments, "--hostile", 1000);
        var honest = EncryptBenchmark.Option(arguments, "--honest", 200);
        var attackSeconds = EncryptBenchmark.Option(arguments, "--seconds", 240);
        var concurrency = EncryptBenchmark.Option(arguments, "--concurrency", 8);
        // Each hostile socket is a descriptor here and another in the server, which inherits this limit.
        var (soft, hard) = FileDescriptorLimit.RaiseTo((ulong)hostile + 2048);
        var disk = BenchmarkStorage.DiskParent(arguments);
        using var work = new TemporaryDirectory("si-attack-", disk);
        using var gpg = new GnuPgHome();
        await using var postgres = await BenchmarkStorage.StartDatabaseAsync(disk);
        Console.WriteLine($"attack benchmark: {honest} honest submissions (form, message, 1 MiB file; {concurrency} at a time) without and then " +
            $"under {hostile} hostile connections held for {attackSeconds} s, {Environment.ProcessorCount} cores, loopback only");

        var (certificates, _, _) = await EncryptBenchmark.MakeRecipientsAsync(gpg, work);
        var blobs = Directory.CreateDirectory(work.File("blobs")).FullName;
        var environment = WebService.Settings(await postgres.CreateDatabaseAsync(), blobs);
        foreach (var (key, value) in SettingOptions(arguments))
        {
            environment[$"SECUREINTAKE_{key.Replace(":", "__", StringComparison.Ordinal)}"] = value;
        }

        await WebService.AdminAsync(["keys", "add", certificates], environment);
        await using var service = await WebService.StartAsync(environment);
        var given = string.Join(", ", environment.Keys.Select(k => k["SECUREINTAKE_".Length..].Replace("__", ":", StringComparison.Ordinal)));
        Console.WriteLine($"  server: secureintake web at {service.Address}, pid {service.ProcessId}; settings given: {given}; all others at their defaults");
        Console.WriteLine($"  blobs: {blobs} ({BenchmarkStorage.FileSystemOf(blobs)}); the server fsyncs each blob and its directory before it answers \"received\"");
        Console.WriteLine($"  database: {await BenchmarkStorage.DescribeAsync(postgres)}");
        Console.WriteLine($"  open files: soft limit {soft}, hard {hard} (the server inherits the soft limit)");

        var file = new byte[1 << 20];
        Random.Shared.NextBytes(file);
        var witnesses = new HonestWitnesses(service.Address, file);
        await witnesses.RunAsync(Math.Min(WarmUpSubmissions, honest), concurrency);

        var watch = Stopwatch.StartNew();
        var baseline = await witnesses.RunAsync(honest, concurrency);
        Console.WriteLine($"baseline, no attack (after {Math.Min(WarmUpSubmissions, honest)} warm-up submissions): {watch.Elapsed.TotalSeconds:F1} s");
        var peakAfterBaseline = service.MemoryKiB("VmHWM");

        var tallies = Enum.GetValues<HostileKind>().Select(kind => new HostileTally(kind)).ToArray();
        var (underAttack, attack) = await UnderAttackAsync(service, witnesses, tallies, hostile, honest, concurrency, TimeSpan.FromSeconds(attackSeconds));
        Console.WriteLine($"under attack: hostile connections opened over {attack.RampSeconds:F1} s, then the honest submissions; " +
            $"attack stopped after {attack.Seconds:F1} s");

        var received = Summary(baseline);
        var attacked = Summary(underAttack);
        Console.WriteLine($"  honest submissions received: {attacked.Received}/{honest} under attack (target: all), {received.Received}/{honest} without");
        Console.WriteLine($"  latency of a received submission (form + post): without attack {Latency(received)}; under attack {Latency(attacked)}" +
            (attacked.Received > 0 && received.Received > 0 ? $"; ratio p50 {attacked.P50 / received.P50:F2}x, p99 {attacked.P99 / received.P99:F2}x" : ""));
        PrintFailures("without attack", baseline);
        PrintFailures("under attack", underAttack);
        Console.WriteLine($"  server memory: peak (VmHWM) {peakAfterBaseline / 1024} MiB after the baseline, {service.MemoryKiB("VmHWM") / 1024} MiB after the attack; " +
            $"resident (VmRSS) at the end {service.MemoryKiB("VmRSS") / 1024} MiB");
        Console.WriteLine($"  at the peak: {attack.PeakHostileOpen} hostile connections open at once, the server held {attack.PeakServerDescriptors} open files; " +
            $"the server wrote {service.OutputLines} log lines");
        foreach (var tally in tallies)
        {
            PrintHostile(tally);
        }

        return attacked.Received == honest && received.Received == honest ? 0 : 1;
    }

    private static async Task<(IReadOnlyList<WitnessOutcome> Outcomes, AttackFigures Figures)> UnderAttackAsync(WebService service, HonestWitnesses witnesses,
        HostileTally[] tallies, int hostile, int honest, int concurrency, TimeSpan length)
    {
        using var stop = new CancellationTokenSource();
        var clients = new HostileClients(new IPEndPoint(IPAddress.Loopback, service.Address.Port), stop.Token);
        var waitingToStart = hostile;
        var allStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (hostile == 0)
        {
            allStarted.SetResult();
        }

        var watch = Stopwatch.StartNew();
        var attackers = Enumerable.Range(0, hostile)
            .Select(i => Task.Run(() => clients.RunAsync(tallies[i % tallies.Length], () =>
            {
                if (Interlocked.Decrement(ref waitingToStart) == 0)
                {
                    allStarted.TrySetResult();
                }
            })))
            .ToList();
        var peaks = SamplePeaksAsync(service, tallies, stop.Token);
        await Task.WhenAny(allStarted.Task, Task.Delay(RampLimit));
        var ramp = watch.Elapsed;

        var outcomes = await witnesses.RunAsync(honest, concurrency, DateTimeOffset.UtcNow + length - ramp);
        if (length - watch.Elapsed is { Ticks: > 0 } rest)
        {
            await Task.Delay(rest);
        }

        await stop.CancelAsync();
        await Task.WhenAll(attackers);
        var (hostileOpen, descriptors) = await peaks;
        return (outcomes, new AttackFigures(ramp.TotalSeconds, watch.Elapsed.TotalSeconds, hostileOpen, descriptors));
    }

    /// <summary>Once a second until the stop: the most hostile connections open at once, and the most files the server had open.</summary>
    private static async Task<(int HostileOpen, int ServerDescriptors)> SamplePeaksAsync(WebService service, HostileTally[] tallies, CancellationToken stop)
    {
        var (hostileOpen, descriptors) = (0, 0);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                hostileOpen = Math.Max(hostileOpen, tallies.Sum(t => t.OpenNow));
                descriptors = Math.Max(descriptors, service.OpenFileDescriptors());
            }
        }
        catch (OperationCanceledException)
        {
        }

        return (hostileOpen, descriptors);
    }

    private static (int Received, double P50, double P99) Summary(IReadOnlyList<WitnessOutcome> outcomes)
    {
        var times = outcomes.Where(o => o.Received).Select(o => o.Milliseconds).Order().ToList();
        return times.Count == 0
            ? (0, double.NaN, double.NaN)
            : (times.Count, SubmissionsBenchmark.Percentile(times, 0.50), SubmissionsBenchmark.Percentile(times, 0.99));
    }

    private static string Latency((int Received, double P50, double P99) summary) =>
        summary.Received == 0 ? "none received" : $"p50 {summary.P50:F0} ms, p99 {summary.P99:F0} ms";

    private static void PrintFailures(string phase, IReadOnlyList<WitnessOutcome> outcomes)
    {
        var failures = outcomes.Where(o => !o.Received).GroupBy(o => o.Result).Select(g => $"{g.Key} x{g.Count()}").ToList();
        if (failures.Count > 0)
        {
            Console.WriteLine($"  honest submissions failed {phase}: {string.Join(", ", failures)}");
        }
    }

    private static void PrintHostile(HostileTally tally)
    {
        var name = tally.Kind switch
        {
            HostileKind.IdleAfterHeaders => "idle after the headers (Content-Length 1 GiB)",
            HostileKind.IdleAfterBoundary => "idle after a boundary line",
            HostileKind.Dribbling => $"dribbling 1 byte every {HostileClients.DribbleInterval.TotalSeconds:F0} s",
            _ => $"re-posting one page's token (every {HostileClients.RepostPause.TotalSeconds:F0} s)",
        };
        Console.WriteLine($"  hostile, {name}:");
        var closed = tally.ClosedByServer == 0 ? "none" : $"{tally.ClosedByServer}, the longest held {tally.LongestHeldByServer.TotalSeconds:F1} s from connect to close";
        var open = tally.OpenAtEnd == 0 ? "none" : $"{tally.OpenAtEnd}, held up to {tally.LongestOpenAtEnd.TotalSeconds:F1} s";
        Console.WriteLine($"    connections opened {tally.Opened}, connects failed {tally.ConnectFailures}; closed by the server: {closed}; " +
            $"still open when the attack stopped: {open}");
        var answers = tally.Answers();
        Console.WriteLine($"    answers: {(answers.Count == 0 ? "(no connection)" : string.Join(", ", answers.Select(a => $"{a.Key} x{a.Value}")))}");
        if (tally.Kind == HostileKind.Reposting)
        {
            Console.WriteLine($"    posts with the one token: accepted (200 with a codename) {tally.PostsAccepted}, refused {tally.PostsRefused}");
        }
    }

    /// <summary>Server settings to change for a run, each given as `--set Section:Name=value`.</summary>
    private static IEnumerable<(string Key, string Value)> SettingOptions(string[] arguments)
    {
        for (var i = 0; i + 1 < arguments.Length; i++)
        {
            if (arguments[i] == "--set" && arguments[i + 1].Split('=', 2) is [var key, var value])
            {
                yield return (key, value);
            }
        }
    }

    private sealed record AttackFigures(double RampSeconds, double Seconds, int PeakHostileOpen, int PeakServerDescriptors);
}
