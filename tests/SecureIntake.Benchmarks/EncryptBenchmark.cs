using System.Diagnostics;
using System.Globalization;
using SecureIntake.Crypto.Encryption;
using SecureIntake.Crypto.Keys;
using SecureIntake.Testing;

namespace SecureIntake.Benchmarks;

/// <summary>
/// Our streaming encryption against stock gpg on the same file, same recipients, same machine, same run.
/// Each side runs as its own process, alternating, and the best and median of the runs are printed.
/// </summary>
internal static class EncryptBenchmark
{
    private const int BufferSize = 1 << 20;
    private const int HeapLimitMiB = 16;

    public static async Task<int> RunAsync(string[] arguments)
    {
        var sizeMiB = Option(arguments, "--size-mib", 1024);
        var runs = Option(arguments, "--runs", 3);
        using var work = new TemporaryDirectory("si-bench-", WorkParent(arguments, sizeMiB));
        using var gpg = new GnuPgHome();

        Console.WriteLine($"encrypt benchmark: {sizeMiB} MiB to two recipients (Curve25519, RSA-4096), {runs} runs each after a warm-up, " +
            $"{Environment.ProcessorCount} cores, files in {Path.GetDirectoryName(work.Path)} ({BenchmarkStorage.FileSystemOf(work.Path)}; " +
            "neither side fsyncs: this compares encryption, the upload benchmark measures the durable path)");
        var (certificates, cv25519, rsa) = await MakeRecipientsAsync(gpg, work);

        var input = work.File("input.bin");
        await WriteRandomFileAsync(input, sizeMiB);
        await SyncDisksAsync();
        var bytes = (long)sizeMiB << 20;

        var ours = new List<double>();
        var theirs = new List<double>();
        var oursCpu = new List<double>();
        var theirsCpu = new List<double>();
        var peakKiB = new List<long>();
        var baselineKiB = long.Parse((await RunOursAsync(certificates, certificates, work.File("baseline.gpg"))).OutputText.Trim(), CultureInfo.InvariantCulture);
        for (var run = -1; run < runs; run++)
        {
            // Alternate who goes first, and start every run with no dirty pages left by the one before.
            foreach (var side in run % 2 == 0 ? new[] { "ours", "gpg" } : ["gpg", "ours"])
            {
                await SyncDisksAsync();
                var output = work.File($"{side}.gpg");
                var cpuBefore = ChildCpuTime.Total();
                var watch = Stopwatch.StartNew();
                // Run -1 is the warm-up: the first write of a file's pages costs both sides more than any later one.
                if (side == "ours")
                {
                    var result = await RunOursAsync(certificates, input, output);
                    if (run >= 0)
                    {
                        ours.Add(bytes / watch.Elapsed.TotalSeconds);
                        oursCpu.Add((ChildCpuTime.Total() - cpuBefore).TotalSeconds);
                        peakKiB.Add(long.Parse(result.OutputText.Trim(), CultureInfo.InvariantCulture));
                    }
                }
                else
                {
                    (await gpg.RunAsync(["--trust-model", "always", "--compress-algo", "none", "-r", cv25519, "-r", rsa, "-o", output, "--encrypt", input]))
                        .EnsureSuccess("gpg --encrypt");
                    if (run >= 0)
                    {
                        theirs.Add(bytes / watch.Elapsed.TotalSeconds);
                        theirsCpu.Add((ChildCpuTime.Total() - cpuBefore).TotalSeconds);
                    }
                }

                File.Delete(output);
            }
        }

        const double MiB = 1 << 20;
        Console.WriteLine($"  ours (SecureIntake.Crypto): best {ours.Max() / MiB,7:F1} MiB/s, median {Median(ours) / MiB,7:F1} MiB/s (whole process, start-up included)");
        Console.WriteLine($"  gpg --encrypt:             best {theirs.Max() / MiB,7:F1} MiB/s, median {Median(theirs) / MiB,7:F1} MiB/s");
        Console.WriteLine($"  ratio ours/gpg:            best {ours.Max() / theirs.Max():F2}x, median {Median(ours) / Median(theirs):F2}x (target >= 1.00x)");
        Console.WriteLine($"  CPU seconds (user+system): ours median {Median(oursCpu):F2} s, gpg median {Median(theirsCpu):F2} s " +
            "(ours writes on a second core while it encrypts, so its CPU time can exceed its wall time)");
        Console.WriteLine($"  our peak memory (VmHWM):   {peakKiB.Max() / 1024.0:F1} MiB for the whole process (target < 64 MiB), " +
            $"{baselineKiB / 1024.0:F1} MiB of it the same process encrypting a tiny file; GC heap capped at {HeapLimitMiB} MiB");
        return 0;
    }

    /// <summary>The two recipients of both benchmarks, made by gpg: Curve25519 and RSA-4096.</summary>
    internal static async Task<(string Certificates, string Cv25519, string Rsa)> MakeRecipientsAsync(GnuPgHome gpg, TemporaryDirectory work)
    {
        var cv25519 = await gpg.GenerateAsync("<bench-cv25519@bench.invalid>", "ed25519", "cert,sign", "never");
        await gpg.AddSubkeyAsync(cv25519, "cv25519", "encr", "never");
        var rsa = await gpg.GenerateAsync("<bench-rsa4096@bench.invalid>", "rsa4096", "cert,sign", "never");
        await gpg.AddSubkeyAsync(rsa, "rsa4096", "encr", "never");
        var certificates = work.File("recipients.asc");
        await File.WriteAllBytesAsync(certificates, [.. await gpg.ExportPublicAsync(cv25519), .. await gpg.ExportPublicAsync(rsa)]);
        return (certificates, cv25519, rsa);
    }

    /// <summary>
    /// Our side runs in a fresh process with the managed heap capped: if memory grew with the file size the
    /// run would fail rather than merely look bigger.
    /// </summary>
    private static async Task<ToolResult> RunOursAsync(string certificates, string input, string output)
    {
        var self = Environment.ProcessPath!;
        string[] selfArguments = self.EndsWith("dotnet", StringComparison.Ordinal) ? [typeof(EncryptBenchmark).Assembly.Location] : [];
        var environment = new Dictionary<string, string> { ["DOTNET_GCHeapHardLimit"] = $"0x{HeapLimitMiB << 20:X}" };
        return (await ExternalTool.RunAsync(self, [.. selfArguments, "encrypt-once", certificates, input, output], environment: environment, timeout: TimeSpan.FromMinutes(20)))
            .EnsureSuccess("our encryption");
    }

    internal static async Task SyncDisksAsync() => (await ExternalTool.RunAsync("sync", [])).EnsureSuccess("sync");

    /// <summary>One encryption in a fresh process, so its peak resident memory is its own; prints VmHWM in KiB.</summary>
    public static async Task<int> EncryptOnceAsync(string certificates, string input, string output)
    {
        var recipients = (await RecipientKeyReader.ReadFileAsync(certificates, DateTimeOffset.UtcNow, CancellationToken.None))
            .Select(v => v.Key ?? throw new InvalidOperationException(v.RefusalReason)).ToList();
        await using (var source = new FileStream(input, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, FileOptions.SequentialScan | FileOptions.Asynchronous))
        await using (var destination = new FileStream(output, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferSize, FileOptions.Asynchronous))
        await using (var encrypting = await OpenPgpEncryptingStream.OpenAsync(destination, recipients, CancellationToken.None))
        {
            await CopyWithReadAheadAsync(source, encrypting);
            await encrypting.CompleteAsync(CancellationToken.None);
        }

        var hwm = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        Console.WriteLine(hwm.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        return 0;
    }

    /// <summary>Reads the next buffer while the previous one is being encrypted, as any streaming reader of a file would.</summary>
    private static async Task CopyWithReadAheadAsync(Stream source, Stream destination)
    {
        var current = new byte[BufferSize];
        var next = new byte[BufferSize];
        var read = await source.ReadAsync(current);
        while (read > 0)
        {
            var reading = source.ReadAsync(next).AsTask();
            await destination.WriteAsync(current.AsMemory(0, read));
            read = await reading;
            (current, next) = (next, current);
        }
    }

    internal static async Task WriteRandomFileAsync(string path, int sizeMiB)
    {
        var block = new byte[BufferSize];
        await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferSize, FileOptions.Asynchronous);
        for (var i = 0; i < sizeMiB; i++)
        {
            Random.Shared.NextBytes(block);
            await file.WriteAsync(block);
        }
    }

    /// <summary>
    /// RAM-backed /dev/shm when it has room: disk writeback on this kind of machine swings a run by 2x either
    /// way for both tools, which would drown the encryption being compared. --dir DIR chooses another place.
    /// </summary>
    private static string WorkParent(string[] arguments, int sizeMiB)
    {
        var index = Array.IndexOf(arguments, "--dir");
        if (index >= 0 && index + 1 < arguments.Length)
        {
            return arguments[index + 1];
        }

        const string shm = "/dev/shm";
        var needed = 4L * sizeMiB << 20;
        return Directory.Exists(shm) && new DriveInfo(shm).AvailableFreeSpace > needed ? shm : Path.GetTempPath();
    }

    internal static int Option(string[] arguments, string name, int fallback)
    {
        var index = Array.IndexOf(arguments, name);
        return index >= 0 && index + 1 < arguments.Length ? int.Parse(arguments[index + 1], CultureInfo.InvariantCulture) : fallback;
    }

    internal static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
