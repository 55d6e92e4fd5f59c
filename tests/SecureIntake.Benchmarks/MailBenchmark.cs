using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using System.Security.Cryptography;
using System.Text;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Security;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using SecureIntake.Core;
using SecureIntake.Core.Recipients;
using SecureIntake.Core.Storage;
using SecureIntake.Crypto.Encryption;
using SecureIntake.Crypto.Keys;
using SecureIntake.Mail;
using SecureIntake.Mail.Ingest;
using SecureIntake.Testing;

namespace SecureIntake.Benchmarks;

/// <summary>
/// Many emails of mixed sizes through a real Dovecot into submissions by gateway passes, against the ceiling of
/// merely fetching the same messages over IMAP (MailKit, same connection settings) into a null sink, in alternating
/// rounds after a warm-up round, with blobs on disk and a durable database; prints the median messages/s of both
/// and the process's peak memory. The ceiling is fetched both ways MailKit offers, one FETCH per message and one FETCH
/// per batch of 50 as the gateway fetches, and the gateway is measured against the faster of the two; the gateway's
/// time is split into its phases.
/// </summary>
internal static class MailBenchmark
{
    private const string CeilingFolder = "Ceiling";
    private const string BatchedCeilingFolder = "BatchedCeiling";

    // As many as the gateway fetches in one command.
    private const int FetchBatch = 50;

    // Warm-up rounds go on until a gateway pass spends less than this share of its time compiling code, or there were this many.
    private const double WarmJitShare = 0.02;
    private const int MaxWarmUps = 6;

    public static async Task<int> RunAsync(string[] arguments)
    {
        var count = EncryptBenchmark.Option(arguments, "--count", 2000);
        var runs = EncryptBenchmark.Option(arguments, "--runs", 3);
        var disk = BenchmarkStorage.DiskParent(arguments);
        using var work = new TemporaryDirectory("si-mail-bench-", disk);
        using var gpg = new GnuPgHome();
        await using var postgres = await BenchmarkStorage.StartDatabaseAsync(disk);
        var (sizes, bytes) = Sizes(count);
        Console.WriteLine($"mail benchmark: {count} messages per round ({bytes / (1 << 20)} MiB; 70% 4 KiB, 25% 64 KiB, 5% 1 MiB) through Dovecot on loopback, " +
            $"{runs} rounds after warm-up rounds of {WarmUpCount(count)}, {Environment.ProcessorCount} cores");

        var (certificates, _, _) = await EncryptBenchmark.MakeRecipientsAsync(gpg, work);
        var keys = RecipientKeyReader.Read(await File.ReadAllBytesAsync(certificates), DateTimeOffset.UtcNow).Select(v => v.Key!).ToList();
        var database = await postgres.CreateDatabaseAsync();
        await using (var dataSource = NpgsqlDataSource.Create(database))
        {
            await new Migrator(dataSource, NullLogger<Migrator>.Instance).MigrateAsync(CancellationToken.None);
            var hangfire = new Hangfire.PostgreSql.PostgreSqlStorageOptions { SchemaName = "hangfire", PrepareSchemaIfNecessary = true };
            _ = new Hangfire.PostgreSql.PostgreSqlStorage(new Hangfire.PostgreSql.Factories.NpgsqlConnectionFactory(database, hangfire), hangfire);
            var store = new RecipientStore(dataSource, TimeProvider.System);
            foreach (var verdict in RecipientKeyReader.Read(await File.ReadAllBytesAsync(certificates), DateTimeOffset.UtcNow))
            {
                await store.AddAsync(RecipientStore.DefaultDesk, verdict.Key!, CancellationToken.None);
            }
        }

        await using var dovecot = await DovecotServer.StartAsync();
        var blobs = Directory.CreateDirectory(work.File("blobs")).FullName;
        Console.WriteLine($"  blobs: {blobs} ({BenchmarkStorage.FileSystemOf(blobs)}); each is fsynced with its directory before its message is expunged");
        Console.WriteLine($"  database: {await BenchmarkStorage.DescribeAsync(postgres)}");
        Console.WriteLine($"  Maildir: {dovecot.MaildirPath} ({BenchmarkStorage.FileSystemOf(dovecot.MaildirPath)})");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Database:ConnectionString"] = database,
            ["Storage:BlobDirectory"] = blobs,
            ["Storage:MinimumFreeBytes"] = "0",
            ["Mail:Imap:Host"] = dovecot.Host,
            ["Mail:Imap:Port"] = dovecot.Port.ToString(CultureInfo.InvariantCulture),
            ["Mail:Imap:Security"] = "none",
            ["Mail:Imap:User"] = dovecot.User,
            ["Mail:Imap:Password"] = dovecot.Password,
            ["Codenames:Pepper"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)), // keys the ledger's digests
        }).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddSecureIntakeCore(configuration);
        services.AddSecureIntakeMail(configuration);
        await using var provider = services.BuildServiceProvider();
        var gateway = provider.GetRequiredService<ImapGateway>();
        var meter = provider.GetRequiredService<GatewayMeter>();

        var fetchSeconds = new List<double>();
        var batchedFetchSeconds = new List<double>();
        var gatewaySeconds = new List<double>();
        var encryptOnlySeconds = new List<double>();
        var expected = 0L;
        var gatewayJit = TimeSpan.Zero;
        var warmUps = 0;
        var warmUpJit = 1.0;
        var machine = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var round = -1; round < runs; round++)
        {
            // Each round: fresh messages (the gateway would skip ones it has seen), the same bytes into INBOX for the
            // gateway and into another folder for the fetch-only ceiling, both indexed by Dovecot before either is timed.
            var n = round < 0 ? WarmUpCount(count) : count;
            await DeliverRoundAsync(dovecot, sizes.AsSpan(0, n).ToArray());
            await IndexAsync(dovecot, "INBOX", n);
            await IndexAsync(dovecot, CeilingFolder, n);
            await IndexAsync(dovecot, BatchedCeilingFolder, n);
            expected += n;

            // Rotate who goes first, so none always meets caches another warmed.
            string[] legs = ["fetch", "batched fetch", "gateway", "encryption alone"];
            foreach (var leg in legs.Skip(Math.Max(round, 0) % legs.Length).Concat(legs.Take(Math.Max(round, 0) % legs.Length)))
            {
                await EncryptBenchmark.SyncDisksAsync();
                var cpuBefore = SystemCpu.Now();
                var jitBefore = JitInfo.GetCompilationTime();
                var watch = Stopwatch.StartNew();
                switch (leg)
                {
                    case "fetch":
                        await FetchOnlyAsync(dovecot, CeilingFolder, n, batch: 1);
                        break;
                    case "batched fetch":
                        await FetchOnlyAsync(dovecot, BatchedCeilingFolder, n, FetchBatch);
                        break;
                    case "encryption alone":
                        await EncryptOnlyAsync(keys, sizes.AsSpan(0, n).ToArray());
                        break;
                    default:
                        await gateway.RunAsync(CancellationToken.None);
                        break;
                }

                watch.Stop();
                var jit = JitInfo.GetCompilationTime() - jitBefore;
                machine[leg] = SystemCpu.Describe(cpuBefore, SystemCpu.Now()) +
                    string.Create(CultureInfo.InvariantCulture, $"; of this process's, {jit.TotalSeconds:F2} s compiling code (JIT)");
                if (leg == "gateway")
                {
                    if (round >= 0)
                    {
                        gatewayJit += jit;
                    }
                    else
                    {
                        warmUpJit = jit / watch.Elapsed;
                    }
                }

                if (round >= 0)
                {
                    (leg switch
                    {
                        "fetch" => fetchSeconds,
                        "batched fetch" => batchedFetchSeconds,
                        "encryption alone" => encryptOnlySeconds,
                        _ => gatewaySeconds,
                    }).Add(watch.Elapsed.TotalSeconds);
                }
            }

            if (round < 0)
            {
                warmUps++;
                if (warmUpJit >= WarmJitShare && warmUps < MaxWarmUps)
                {
                    round--; // another warm-up round
                    continue;
                }

                Console.WriteLine($"  warm-up: {warmUps} rounds of {n} messages (at most {MaxWarmUps}; fewer once a gateway pass spends under {WarmJitShare:P0} " +
                    $"of its time compiling code): the last pass spent {warmUpJit:P1}");
                meter.Reset(); // the phases of the timed rounds only
            }
        }

        long submissions;
        long items;
        await using (var connection = new NpgsqlConnection(database))
        {
            await connection.OpenAsync();
            await using var countCommand = new NpgsqlCommand("SELECT count(*) FROM submissions", connection);
            submissions = (long)(await countCommand.ExecuteScalarAsync())!;
            await using var itemsCommand = new NpgsqlCommand("SELECT count(*) FROM submission_items", connection);
            items = (long)(await itemsCommand.ExecuteScalarAsync())!;
        }

        var left = await dovecot.CountAsync();
        var peak = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        var fetchMedian = Math.Min(EncryptBenchmark.Median(fetchSeconds), EncryptBenchmark.Median(batchedFetchSeconds));
        var gatewayMedian = EncryptBenchmark.Median(gatewaySeconds);
        Console.WriteLine($"  fetch only, one FETCH a message:   median {count / EncryptBenchmark.Median(fetchSeconds),7:F1} messages/s (runs: {Runs(fetchSeconds, count)})");
        Console.WriteLine($"  fetch only, one FETCH per {FetchBatch}:      median {count / EncryptBenchmark.Median(batchedFetchSeconds),7:F1} messages/s " +
            $"(runs: {Runs(batchedFetchSeconds, count)})");
        Console.WriteLine($"  gateway (encrypt, fsync, commit, expunge): median {count / gatewayMedian,7:F1} messages/s (runs: {Runs(gatewaySeconds, count)}) " +
            $"= {fetchMedian / gatewayMedian:P0} of the faster ceiling");
        Console.WriteLine($"  encryption alone (each message to the desk's {keys.Count} keys into a null sink, and HMACed, " +
            $"on {Environment.ProcessorCount} threads; no IMAP, disk or database): median {count / EncryptBenchmark.Median(encryptOnlySeconds),7:F1} messages/s " +
            $"(runs: {Runs(encryptOnlySeconds, count)}); no gateway doing this encryption on this machine can pass it. 30 % of the faster fetch ceiling " +
            $"would be {0.3 * count / fetchMedian:F1} messages/s.");
        var phases = Enum.GetValues<GatewayPhase>().Select(p => (Phase: p, Seconds: meter.Total(p).TotalSeconds)).ToList();
        // The encryption tail, fsync, commit and removal run beside the fetches; the rest is the pass's own path, one after another.
        var accounted = phases.Where(p => p.Phase is not (GatewayPhase.EncryptAndWrite or GatewayPhase.Fsync or GatewayPhase.Commit or GatewayPhase.Expunge
            or GatewayPhase.EncryptionSlotWait)).Sum(p => p.Seconds);
        Console.WriteLine($"  gateway phases over the {runs} timed rounds ({meter.Messages} messages, {accounted:F1} s of {gatewaySeconds.Sum():F1} s on the pass's own path): " +
            string.Join(", ", phases.Select(p => $"{PhaseName(p.Phase)} {p.Seconds:F1} s ({p.Seconds / gatewaySeconds.Sum():P0})")));
        Console.WriteLine($"  encryption (one blob a message) on the gateway's encryption threads: {meter.EncryptionWork.TotalSeconds:F1} thread-s " +
            $"({meter.EncryptionWork.TotalSeconds / gatewaySeconds.Sum():F2} per gateway second; wall-clock time on each thread, waits for a core included)");
        Console.WriteLine($"  compiling code (JIT) during the timed gateway legs: {gatewayJit.TotalSeconds:F2} s of this process's CPU " +
            $"(a gateway that has been running does none; the warm-up is there to take it out)");
        Console.WriteLine("  the machine's CPU during each leg of the last round (all processes, children they reaped included):");
        foreach (var (leg, described) in machine)
        {
            Console.WriteLine($"    {leg}: {described}");
        }

        Console.WriteLine($"  {submissions} submissions ({items} items: each email its one) of {expected} messages delivered, {left} left in INBOX; " +
            $"peak memory of this process (VmHWM) {long.Parse(peak, CultureInfo.InvariantCulture) / 1024.0:F1} MiB");
        return submissions == expected && items == expected && left == 0 ? 0 : 1;
    }

    /// <summary>
    /// A warm-up round: N/5, and at least 20 batches of 50. .NET compiles a method for good only after it has run some
    /// 60 times (first plainly, then instrumented), and the code run once a batch (the commit, the triage job's enqueue)
    /// gets there only after that many batches; a gateway that has been running compiles nothing, so warm-up rounds go on
    /// until a pass compiles almost nothing either.
    /// </summary>
    private static int WarmUpCount(int count) => Math.Max(count / 5, Math.Min(count, 1000));

    private static string PhaseName(GatewayPhase phase) => phase switch
    {
        GatewayPhase.Fetch => "fetch (encryption overlapping)",
        GatewayPhase.EncryptionSlotWait => "of which waiting for an encryption thread",
        GatewayPhase.EncryptAndWrite => "encryption tail (overlaps the next fetch)",
        GatewayPhase.Fsync => "fsync (overlaps the next fetch)",
        GatewayPhase.Commit => "commit (overlaps the next fetch)",
        GatewayPhase.CommitWait => "waiting for the batch before last to commit",
        GatewayPhase.Expunge => "removal (overlaps the fetches but the last)",
        _ => "waiting for the previous removal",
    };

    private static string Runs(List<double> seconds, int count) =>
        string.Join(", ", seconds.Select(s => (count / s).ToString("F1", CultureInfo.InvariantCulture)));

    private static async Task DeliverRoundAsync(DovecotServer dovecot, int[] sizes)
    {
        for (var i = 0; i < sizes.Length; i++)
        {
            var message = Message(i, sizes[i]);
            await dovecot.DeliverAsync(message);
            await dovecot.DeliverAsync(message, CeilingFolder);
            await dovecot.DeliverAsync(message, BatchedCeilingFolder);
        }
    }

    /// <summary>Lets Dovecot find and index newly delivered files, untimed, as its LDA would have on delivery.</summary>
    private static async Task IndexAsync(DovecotServer dovecot, string folderName, int atLeast)
    {
        using var client = new ImapClient();
        await client.ConnectAsync(dovecot.Host, dovecot.Port, SecureSocketOptions.None);
        await client.AuthenticateAsync(dovecot.User, dovecot.Password);
        var folder = await client.GetFolderAsync(folderName);
        await folder.OpenAsync(FolderAccess.ReadOnly);
        var summaries = await folder.FetchAsync(0, -1, MessageSummaryItems.UniqueId | MessageSummaryItems.Size);
        await client.DisconnectAsync(true);
        if (summaries.Count < atLeast)
        {
            throw new InvalidOperationException($"{folderName} holds {summaries.Count} messages, expected at least {atLeast}");
        }
    }

    /// <summary>
    /// The ceiling: fetch every message of a ceiling folder into a null sink, <paramref name="batch"/> messages to a
    /// FETCH command, then expunge them untimed.
    /// </summary>
    private static async Task FetchOnlyAsync(DovecotServer dovecot, string folderName, int count, int batch)
    {
        using var client = new ImapClient();
        await client.ConnectAsync(dovecot.Host, dovecot.Port, SecureSocketOptions.None);
        await client.AuthenticateAsync(dovecot.User, dovecot.Password);
        var folder = (ImapFolder)await client.GetFolderAsync(folderName);
        await folder.OpenAsync(FolderAccess.ReadWrite);
        var messages = await folder.FetchAsync(0, -1, MessageSummaryItems.UniqueId | MessageSummaryItems.Size);
        var fetched = 0;
        if (batch == 1)
        {
            foreach (var message in messages)
            {
                await using var stream = await folder.GetStreamAsync(message.UniqueId);
                await stream.CopyToAsync(Stream.Null);
                fetched++;
            }
        }
        else
        {
            foreach (var chunk in messages.Select(m => m.UniqueId).Chunk(batch))
            {
                await folder.GetStreamsAsync(chunk, async (_, _, _, stream, token) =>
                {
                    await stream.CopyToAsync(Stream.Null, token);
                    fetched++;
                });
            }
        }

        if (messages.Count != count || fetched != count)
        {
            throw new InvalidOperationException($"fetched {fetched} of {messages.Count} listed, {count} expected");
        }

        await folder.AddFlagsAsync(messages.Select(m => m.UniqueId).ToList(), MessageFlags.Deleted, silent: true);
        await folder.ExpungeAsync();
        await client.DisconnectAsync(true);
    }

    /// <summary>
    /// The encryption the gateway must do, alone: every message encrypted to the desk's keys into a null sink, and HMACed, on
    /// as many threads as there are cores. The same sizes as the round's messages; the bytes do not change the cost.
    /// </summary>
    private static async Task EncryptOnlyAsync(IReadOnlyList<RecipientKey> keys, int[] sizes)
    {
        var bodies = sizes.Distinct().ToDictionary(s => s, RandomNumberGenerator.GetBytes);
        var digestKey = RandomNumberGenerator.GetBytes(32);
        await Parallel.ForEachAsync(sizes, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, async (size, token) =>
        {
            await using (var encrypting = await OpenPgpEncryptingStream.OpenAsync(Stream.Null, keys, token))
            {
                await encrypting.WriteAsync(bodies[size], token);
                await encrypting.CompleteAsync(token);
            }

            HMACSHA256.HashData(digestKey, bodies[size]);
        });
    }

    private static (int[] Sizes, long Bytes) Sizes(int count)
    {
        var random = new Random(42);
        var sizes = Enumerable.Range(0, count).Select(_ => random.NextDouble() switch
        {
            < 0.70 => 4 << 10,
            < 0.95 => 64 << 10,
            _ => 1 << 20,
        }).ToArray();
        return (sizes, sizes.Sum(s => (long)s));
    }

    /// <summary>A plain-text email of about <paramref name="size"/> bytes, body in base64 lines like a real attachment.</summary>
    private static byte[] Message(int index, int size)
    {
        var header = $"From: witness{index}@example.invalid\r\nTo: tips@newsroom.invalid\r\nSubject: tip {index}\r\nMessage-ID: <{index}.{Guid.NewGuid()}@example.invalid>\r\n" +
            "Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: base64\r\n\r\n";
        var body = new StringBuilder(header, size + 200);
        var raw = RandomNumberGenerator.GetBytes(57);
        while (body.Length < size)
        {
            body.Append(Convert.ToBase64String(raw)).Append("\r\n");
        }

        return Encoding.ASCII.GetBytes(body.ToString());
    }
}
