using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
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
/// recipients, fsyncs and commits; (3) gpg encrypts the same file to the same two keys; and (4) dd copies it
/// with fsync, the disk's own ceiling. Files and database are on disk with production durability.
/// </summary>
internal static class UploadBenchmark
{
    public static async Task<int> RunAsync(string[] arguments)
    {
        var sizeMiB = EncryptBenchmark.Option(arguments, "--size-mib", 1024);
        var runs = EncryptBenchmark.Option(arguments, "--runs", 3);
        var curl = ExternalTool.Require("curl", "curl");
        var disk = BenchmarkStorage.DiskParent(arguments);
        using var work = new TemporaryDirectory("si-upload-", disk);
        using var gpg = new GnuPgHome();
        await using var postgres = await BenchmarkStorage.StartDatabaseAsync(disk);
        Console.WriteLine($"upload benchmark: {sizeMiB} MiB file over loopback with curl, {runs} runs of each leg after a warm-up round, " +
            $"the legs in a different order each round, {Environment.ProcessorCount} cores");

        var (certificates, cv25519, rsa) = await EncryptBenchmark.MakeRecipientsAsync(gpg, work);
        var input = work.File("input.bin");
        await EncryptBenchmark.WriteRandomFileAsync(input, sizeMiB);
        var bytes = (long)sizeMiB << 20;

        await using var sink = await NullSink.StartAsync();
        var blobs = Directory.CreateDirectory(work.File("blobs")).FullName;
        var environment = WebService.Settings(await postgres.CreateDatabaseAsync(), blobs);
        environment["SECUREINTAKE_Storage__MinimumFreeBytes"] = "0";
        environment["SECUREINTAKE_Intake__MaxRequestBytes"] = (bytes + (64L << 20)).ToString(CultureInfo.InvariantCulture);
        await WebService.AdminAsync(["keys", "add", certificates], environment);
        Console.WriteLine($"  files (input, blobs, gpg's output, the fsynced copy): {work.Path} ({BenchmarkStorage.FileSystemOf(work.Path)})");
        Console.WriteLine($"  database: {await BenchmarkStorage.DescribeAsync(postgres)}");
        await using (var service = await WebService.StartAsync(environment))
        {
            var form = new Uri(service.Address, "/en/submit");
            var cookies = work.File("cookies.txt");
            var token = "";
            var legs = new (string Name, List<double> Rates, Func<Task> Run)[]
            {
                ("sink", [], () => UploadAsync(curl, input, sink.Address, token, cookies)),
                ("sealed", [], async () =>
                {
                    await UploadAsync(curl, input, form, token, cookies);
                    foreach (var blob in Directory.GetFiles(blobs))
                    {
                        File.Delete(blob); // rows stay; the blobs would only fill the disk
                    }
                }),
                ("gpg", [], async () =>
                {
                    (await gpg.RunAsync(["--trust-model", "always", "--compress-algo", "none", "-r", cv25519, "-r", rsa, "-o", work.File("gpg.gpg"), "--encrypt", input]))
                        .EnsureSuccess("gpg --encrypt");
                    File.Delete(work.File("gpg.gpg"));
                }),
                ("fsync", [], async () =>
                {
                    (await ExternalTool.RunAsync("dd", [$"if={input}", $"of={work.File("copy.bin")}", "bs=1M", "conv=fsync", "status=none"], timeout: TimeSpan.FromMinutes(20)))
                        .EnsureSuccess("dd conv=fsync");
                    File.Delete(work.File("copy.bin"));
                }),
            };
            for (var run = -1; run < runs; run++)
            {
                // A form token serves one kept post, so each round opens the form again, as a witness would.
                token = await FormTokenAsync(curl, form, cookies);
                // Round -1 warms up; each later round starts at another leg, so none always runs after the same one.
                for (var i = 0; i < legs.Length; i++)
                {
                    var leg = legs[(i + Math.Max(run, 0)) % legs.Length];
                    await EncryptBenchmark.SyncDisksAsync(); // no leg pays for the dirty pages the one before left
                    var watch = Stopwatch.StartNew();
                    await leg.Run();
                    var seconds = watch.Elapsed.TotalSeconds;
                    if (run >= 0)
                    {
                        leg.Rates.Add(bytes / seconds);
                    }
                }
            }

            const double MiB = 1 << 20;
            var rate = legs.ToDictionary(l => l.Name, l => EncryptBenchmark.Median(l.Rates));
            Console.WriteLine($"  upload into a null sink (ceiling of the web path):           median {rate["sink"] / MiB,7:F1} MiB/s");
            Console.WriteLine($"  copy of the file with fsync, dd conv=fsync (disk ceiling):   median {rate["fsync"] / MiB,7:F1} MiB/s");
            Console.WriteLine($"  upload into secureintake (encrypt, fsync blob, commit):      median {rate["sealed"] / MiB,7:F1} MiB/s");
            Console.WriteLine($"  gpg --encrypt of the same file (written, not fsynced):       median {rate["gpg"] / MiB,7:F1} MiB/s");
            Console.WriteLine($"  sealed upload time / null-sink time:  {rate["sink"] / rate["sealed"]:F2}x (target <= 1.25x)");
            Console.WriteLine($"  sealed upload time / fsynced copy time: {rate["fsync"] / rate["sealed"]:F2}x (what the disk alone costs)");
            Console.WriteLine($"  sealed upload / gpg throughput:       {rate["sealed"] / rate["gpg"]:F2}x");
            Console.WriteLine($"  server peak memory: {service.MemoryKiB("VmHWM")} KiB (VmHWM of the whole secureintake process)");
        }

        return 0;
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
