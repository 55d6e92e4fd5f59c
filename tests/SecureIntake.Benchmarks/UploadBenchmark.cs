using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;
using SecureIntake.Testing;

namespace SecureIntake.Benchmarks;

/// <summary>
/// The witness upload path against its ceiling and against gpg, in one run on one machine: curl sends the
/// same multipart form (a message and one large file) into (1) a Kestrel endpoint that reads the parts
/// the same streaming way and throws the bytes away, (2) `secureintake web`, which encrypts them to two
/// recipients, fsyncs and commits; and (3) gpg encrypts the same file to the same two keys.
/// </summary>
internal static class UploadBenchmark
{
    public static async Task<int> RunAsync(string[] arguments)
    {
        var sizeMiB = EncryptBenchmark.Option(arguments, "--size-mib", 1024);
        var runs = EncryptBenchmark.Option(arguments, "--runs", 2);
        var curl = ExternalTool.Require("curl", "curl");
        using var work = new TemporaryDirectory("si-upload-", EncryptBenchmark.WorkParent(arguments, sizeMiB));
        using var gpg = new GnuPgHome();
        await using var postgres = await PostgresCluster.StartAsync();
        Console.WriteLine($"upload benchmark: {sizeMiB} MiB file over loopback with curl, {runs} runs each after a warm-up, " +
            $"{Environment.ProcessorCount} cores, files in {Path.GetDirectoryName(work.Path)}");

        var (certificates, cv25519, rsa) = await EncryptBenchmark.MakeRecipientsAsync(gpg, work);
        var input = work.File("input.bin");
        await EncryptBenchmark.WriteRandomFileAsync(input, sizeMiB);
        var bytes = (long)sizeMiB << 20;

        await using var sink = await NullSink.StartAsync();
        var blobs = Directory.CreateDirectory(work.File("blobs")).FullName;
        var environment = new Dictionary<string, string>
        {
            ["SECUREINTAKE_Database__ConnectionString"] = await postgres.CreateDatabaseAsync(),
            ["SECUREINTAKE_Storage__BlobDirectory"] = blobs,
            ["SECUREINTAKE_Storage__MinimumFreeBytes"] = "0",
            ["SECUREINTAKE_Intake__MaxRequestBytes"] = (bytes + (64L << 20)).ToString(CultureInfo.InvariantCulture),
            ["SECUREINTAKE_Codenames__Pepper"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
        };
        var server = Path.Combine(AppContext.BaseDirectory, "secureintake.dll");
        (await ExternalTool.RunAsync("dotnet", [server, "keys", "add", certificates], environment: environment)).EnsureSuccess("keys add");
        var port = LoopbackPort.Free();
        using var service = Process.Start(StartInfo(server, port, environment))!;
        try
        {
            await WaitForAsync(new Uri($"http://127.0.0.1:{port}/healthz"));
            var cookies = work.File("cookies.txt");
            var token = await FormTokenAsync(curl, new Uri($"http://127.0.0.1:{port}/en/submit"), cookies);
            var sealing = new List<double>();
            var sinking = new List<double>();
            var encrypting = new List<double>();
            for (var run = -1; run < runs; run++)
            {
                var watch = Stopwatch.StartNew();
                await UploadAsync(curl, input, sink.Address, token, cookies);
                Record(sinking, run, bytes, watch);

                watch.Restart();
                await UploadAsync(curl, input, new Uri($"http://127.0.0.1:{port}/en/submit"), token, cookies);
                Record(sealing, run, bytes, watch);
                foreach (var blob in Directory.GetFiles(blobs))
                {
                    File.Delete(blob); // keep the RAM-backed directory from filling; rows stay, blobs do not matter here
                }

                var output = work.File("gpg.gpg");
                watch.Restart();
                (await gpg.RunAsync(["--trust-model", "always", "--compress-algo", "none", "-r", cv25519, "-r", rsa, "-o", output, "--encrypt", input]))
                    .EnsureSuccess("gpg --encrypt");
                Record(encrypting, run, bytes, watch);
                File.Delete(output);
            }

            var peak = File.ReadLines($"/proc/{service.Id}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            const double MiB = 1 << 20;
            Console.WriteLine($"  upload into a null sink (ceiling):   median {EncryptBenchmark.Median(sinking) / MiB,7:F1} MiB/s");
            Console.WriteLine($"  upload into secureintake (sealed):   median {EncryptBenchmark.Median(sealing) / MiB,7:F1} MiB/s");
            Console.WriteLine($"  gpg --encrypt of the same file:      median {EncryptBenchmark.Median(encrypting) / MiB,7:F1} MiB/s");
            Console.WriteLine($"  sealed upload time / null-sink time: {EncryptBenchmark.Median(sinking) / EncryptBenchmark.Median(sealing):F2}x (target <= 1.25x)");
            Console.WriteLine($"  sealed upload / gpg throughput:      {EncryptBenchmark.Median(sealing) / EncryptBenchmark.Median(encrypting):F2}x");
            Console.WriteLine($"  server peak memory: {peak.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]} KiB (VmHWM of the whole secureintake process)");
        }
        finally
        {
            service.Kill(entireProcessTree: true);
            await service.WaitForExitAsync();
        }

        return 0;
    }

    private static void Record(List<double> into, int run, long bytes, Stopwatch watch)
    {
        if (run >= 0)
        {
            into.Add(bytes / watch.Elapsed.TotalSeconds);
        }
    }

    /// <summary>Opens the form as a browser would, keeping its cookie in <paramref name="cookies"/>, and returns its anti-forgery token.</summary>
    internal static async Task<string> FormTokenAsync(string curl, Uri form, string cookies)
    {
        var page = (await ExternalTool.RunAsync(curl, ["-sS", "-c", cookies, form.ToString()])).EnsureSuccess("curl (form page)").OutputText;
        var match = System.Text.RegularExpressions.Regex.Match(page, "name=\"token\" value=\"([^\"]+)\"");
        return match.Success ? match.Groups[1].Value : throw new InvalidOperationException("the form page has no token");
    }

    private static async Task UploadAsync(string curl, string file, Uri target, string token, string cookies)
    {
        var result = await ExternalTool.RunAsync(curl,
            ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "-b", cookies, "-F", $"token={token}", "-F", "message=benchmark", "-F", $"files=@{file}", target.ToString()],
            timeout: TimeSpan.FromMinutes(20));
        if (result.ExitCode != 0 || result.OutputText != "200")
        {
            throw new InvalidOperationException($"upload to {target} failed: {result.OutputText} {result.Error}");
        }
    }

    /// <summary>`secureintake web` with its witness listener on <paramref name="port"/> and its desk on <paramref name="deskPort"/> (any free port if not given).</summary>
    internal static ProcessStartInfo StartInfo(string server, int port, Dictionary<string, string> environment, int? deskPort = null)
    {
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { server, "web", $"--Urls=http://127.0.0.1:{port}", $"--Desk:Urls=http://127.0.0.1:{deskPort ?? LoopbackPort.Free()}" })
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        return start;
    }

    internal static async Task WaitForAsync(Uri health)
    {
        using var client = new HttpClient();
        for (var attempt = 0; attempt < 300; attempt++)
        {
            try
            {
                if ((await client.GetAsync(health)).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(200);
        }

        throw new TimeoutException("secureintake did not start");
    }


    /// <summary>The ceiling: the same streaming multipart read, every byte thrown away.</summary>
    private sealed class NullSink(WebApplication app, Uri address) : IAsyncDisposable
    {
        public Uri Address { get; } = address;

        public static async Task<NullSink> StartAsync()
        {
            var port = LoopbackPort.Free();
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = null);
            var app = builder.Build();
            app.MapPost("/sink", async (HttpRequest request) =>
            {
                var boundary = HeaderUtilities.RemoveQuotes(MediaTypeHeaderValue.Parse(request.ContentType).Boundary).Value!;
                var reader = new MultipartReader(boundary, request.Body);
                while (await reader.ReadNextSectionAsync() is { } section)
                {
                    await section.Body.CopyToAsync(Stream.Null);
                }

                return Results.Ok();
            });
            await app.StartAsync();
            return new NullSink(app, new Uri($"http://127.0.0.1:{port}/sink"));
        }

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
