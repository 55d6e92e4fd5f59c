using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.Extensions.Options;
using SecureIntake.Core.Codenames;
using SecureIntake.Testing;

namespace SecureIntake.Benchmarks;

/// <summary>
/// Many small submissions at once against `secureintake web` with production codename parameters. Each new
/// submission costs one Argon2id hash (its codename), which bounds throughput at cores / (CPU time of one
/// hash): that ceiling is measured in this run and printed next to what the service did.
/// </summary>
internal static class SubmissionsBenchmark
{
    private const int WarmUpSubmissions = 60;

    public static async Task<int> RunAsync(string[] arguments)
    {
        var count = EncryptBenchmark.Option(arguments, "--count", 200);
        var concurrency = EncryptBenchmark.Option(arguments, "--concurrency", 8);
        var disk = BenchmarkStorage.DiskParent(arguments);
        using var work = new TemporaryDirectory("si-many-", disk);
        using var gpg = new GnuPgHome();
        await using var postgres = await BenchmarkStorage.StartDatabaseAsync(disk);
        Console.WriteLine($"submissions benchmark: {count} small submissions (a 1 KiB message each), {concurrency} at a time, " +
            $"{Environment.ProcessorCount} cores");
        Console.WriteLine($"  blobs: {work.Path} ({BenchmarkStorage.FileSystemOf(work.Path)}); each is fsynced with its directory before \"received\"");
        Console.WriteLine($"  database: {await BenchmarkStorage.DescribeAsync(postgres)}");

        var (certificates, _, _) = await EncryptBenchmark.MakeRecipientsAsync(gpg, work);
        var environment = WebService.Settings(await postgres.CreateDatabaseAsync(), Directory.CreateDirectory(work.File("blobs")).FullName);
        environment["SECUREINTAKE_Storage__MinimumFreeBytes"] = "0";
        await WebService.AdminAsync(["keys", "add", certificates], environment);

        var hashSeconds = HashCpuSeconds(environment["SECUREINTAKE_Codenames__Pepper"]);
        var ceiling = Environment.ProcessorCount / hashSeconds;

        await using (var service = await WebService.StartAsync(environment))
        {
            var address = service.Address;
            // Warm-up, as a service that has been running a while is: connection pools, and enough calls for the
            // runtime's tiered compiler to finish optimising the hot paths (Argon2 above all).
            await RunWitnessesAsync(address, Math.Max(WarmUpSubmissions, concurrency), concurrency);
            var serverCpuBefore = ProcessCpuSeconds(service.ProcessId);
            var ourCpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            var (latencies, errors) = await RunWitnessesAsync(address, count, concurrency);
            var rate = count / watch.Elapsed.TotalSeconds;
            var serverCpu = (ProcessCpuSeconds(service.ProcessId) - serverCpuBefore) / count;
            var clientCpu = (Process.GetCurrentProcess().TotalProcessorTime - ourCpuBefore).TotalSeconds / count;

            latencies.Sort();
            Console.WriteLine($"  one codename hash (Argon2id, production defaults): {hashSeconds * 1000:F0} ms of CPU");
            Console.WriteLine($"  ceiling set by the hash: {ceiling:F1} submissions/s ({Environment.ProcessorCount} cores / one hash's CPU time)");
            Console.WriteLine($"  secureintake: {rate:F1} submissions/s = {rate / ceiling:P0} of the ceiling (target >= 80%), {errors} errors");
            Console.WriteLine($"  latency per submission (the post, form page excluded): p50 {Percentile(latencies, 0.50):F0} ms, p99 {Percentile(latencies, 0.99):F0} ms");
            Console.WriteLine($"  CPU per submission: secureintake {serverCpu * 1000:F0} ms, this benchmark's clients {clientCpu * 1000:F0} ms " +
                "(the clients and PostgreSQL share the same cores)");
            return errors == 0 ? 0 : 1;
        }
    }

    /// <summary>CPU time of one codename derivation with the defaults the service runs with, measured on one thread.</summary>
    private static double HashCpuSeconds(string pepper)
    {
        var codenames = new Codenames(Options.Create(new CodenameOptions { Pepper = pepper }));
        var codename = codenames.Generate();
        // As many warm-up hashes as the service gets, so both sides are measured with fully optimised code.
        for (var i = 0; i < WarmUpSubmissions; i++)
        {
            codenames.Derive(codename);
        }

        const int Hashes = 20;
        var before = Process.GetCurrentProcess().TotalProcessorTime;
        for (var i = 0; i < Hashes; i++)
        {
            codenames.Derive(codename);
        }

        return (Process.GetCurrentProcess().TotalProcessorTime - before).TotalSeconds / Hashes;
    }

    /// <summary>Witnesses in parallel, each like a browser: open the form, then post a message with its token.</summary>
    private static async Task<(List<double> Milliseconds, int Errors)> RunWitnessesAsync(Uri address, int count, int concurrency)
    {
        var latencies = new List<double>(count);
        var errors = 0;
        var next = 0;
        var message = new string('ж', 512); // 1 KiB of UTF-8
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) <= count)
            {
                using var handler = new HttpClientHandler { CookieContainer = new CookieContainer() };
                using var client = new HttpClient(handler) { BaseAddress = address, Timeout = TimeSpan.FromMinutes(2) };
                var page = await client.GetStringAsync(new Uri("/en/submit", UriKind.Relative));
                var token = System.Text.RegularExpressions.Regex.Match(page, "name=\"token\" value=\"([^\"]+)\"").Groups[1].Value;
                using var form = new MultipartFormDataContent { { new StringContent(token), "token" }, { new StringContent(message, Encoding.UTF8), "message" } };
                var watch = Stopwatch.StartNew();
                using var response = await client.PostAsync(new Uri("/en/submit", UriKind.Relative), form);
                var elapsed = watch.Elapsed.TotalMilliseconds;
                lock (latencies)
                {
                    latencies.Add(elapsed);
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        errors++;
                    }
                }
            }
        }));
        return (latencies, errors);
    }

    /// <summary>User plus system CPU seconds of a process so far, from /proc (clock ticks are 1/100 s on Linux).</summary>
    private static double ProcessCpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    internal static double Percentile(List<double> sorted, double p) =>
        sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
}
