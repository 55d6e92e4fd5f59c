using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using SecureIntake.Core.Blobs;
using SecureIntake.Core.Codenames;
using SecureIntake.Crypto.Decryption;
using SecureIntake.Testing;
using Xunit.Abstractions;

namespace SecureIntake.Server.Tests.Cluster;

/// <summary>
/// Two `secureintake web` and two `secureintake worker` processes on one PostgreSQL and one blob directory, as two
/// nodes behind one onion service would run. Witnesses post over both web nodes while one web node and one worker
/// are killed with SIGKILL and started again; afterwards the desk holds every acknowledged tip exactly once, each
/// batch's triage job completed exactly once, and after the orphan sweep the blob directory holds exactly the
/// blobs the desk names.
/// </summary>
public sealed partial class TwoNodeCrashTests(ITestOutputHelper output) : ClusterTest("si-cluster-blobs-")
{
    private const int TipCount = 300;
    private const int WitnessesAtOnce = 6;
    private const int StalledUploads = 2;

    [Fact]
    public async Task With_a_web_node_and_a_worker_killed_mid_run_every_acknowledged_tip_is_on_the_desk_once_and_triaged_once_and_no_blob_is_orphaned()
    {
        var clock = Stopwatch.StartNew();
        await using var nodes = new ClusterNodes(Database, Blobs.Path);
        var webs = new[] { await nodes.StartWebAsync(), await nodes.StartWebAsync() };
        var workers = new List<RunningService> { await nodes.StartWorkerAsync(), await nodes.StartWorkerAsync() };
        output.WriteLine($"four nodes up after {clock.Elapsed}");

        var tips = Enumerable.Range(0, TipCount).Select(WitnessTip.Make).ToArray();
        var codenames = new string?[TipCount];
        var acknowledged = 0;

        async Task WitnessesAsync(int from, int to)
        {
            using var slots = new SemaphoreSlim(WitnessesAtOnce);
            await Task.WhenAll(Enumerable.Range(from, to - from).Select(async i =>
            {
                await slots.WaitAsync();
                try
                {
                    // Which node a witness reaches is not theirs to choose; one that is down is not offered.
                    var form = webs[i % 2].Address ?? webs[(i + 1) % 2].Address!;
                    var post = webs[i / 2 % 2].Address ?? webs[(i / 2 + 1) % 2].Address!;
                    if ((codenames[i] = await ClusterWitnesses.SubmitAsync(form, post, tips[i])) is not null)
                    {
                        Interlocked.Increment(ref acknowledged);
                    }
                }
                finally
                {
                    slots.Release();
                }
            }));
        }

        await WitnessesAsync(0, 120);

        // Uploads stalled mid-file on the node about to die: their partly written blobs are what the sweep must clear.
        using var abandon = new CancellationTokenSource();
        var progress = new ClusterWitnesses.HeldProgress();
        var stalled = Enumerable.Range(0, StalledUploads)
            .Select(i => ClusterWitnesses.SubmitStallingAsync(webs[1].Address!, WitnessTip.Make(TipCount + i), 3 << 20, progress, abandon.Token))
            .ToArray();
        await WaitUntilAsync(() => Task.FromResult(Directory.EnumerateFiles(Blobs.Path).Count(f => new FileInfo(f).Length >= 1 << 20) >= StalledUploads),
            "the stalled uploads to be partly written into blobs");

        var during = WitnessesAsync(120, 210);
        await WaitUntilAsync(() => Task.FromResult(Volatile.Read(ref acknowledged) >= 130), "witnesses to be posting to both nodes");
        await ClusterNodes.KillAsync(webs[1]);
        var (killedWorker, heldAJob) = await nodes.KillAWorkerMidJobAsync(workers, TimeSpan.FromSeconds(30));
        output.WriteLine($"web node and worker killed after {clock.Elapsed}; the worker was running a job: {heldAJob}");
        await nodes.RestartWebAsync(webs[1]);
        workers[workers.IndexOf(killedWorker)] = await nodes.StartWorkerAsync();
        await during;
        await abandon.CancelAsync();
        Assert.All(await Task.WhenAll(stalled), received => Assert.False(received, "a stalled upload on the killed node was acknowledged"));

        await WitnessesAsync(210, TipCount);
        output.WriteLine($"{acknowledged} of {TipCount} tips acknowledged after {clock.Elapsed}");
        Assert.True(acknowledged >= TipCount * 8 / 10, $"only {acknowledged} of {TipCount} tips were acknowledged: the nodes did not carry the load");

        // A job its killed worker held comes back once the queue's invisibility timeout passes, even one whose run had
        // completed before the kill (that second delivery finds its triage_checks row and does nothing).
        await WaitUntilAsync(async () => await nodes.ScalarAsync<long>("""
            SELECT (SELECT count(DISTINCT i.batch_id) FROM submission_items i WHERE NOT EXISTS (SELECT 1 FROM triage_checks c WHERE c.batch_id = i.batch_id))
                + (SELECT count(*) FROM hangfire.job WHERE invocationdata::text LIKE '%BatchArrivedJob%' AND statename <> 'Succeeded')
            """) == 0, "every batch's triage job to complete and be marked done", TimeSpan.FromMinutes(3), JobStatesAsync);
        await nodes.StopAllAsync();
        output.WriteLine($"triage done and nodes stopped after {clock.Elapsed}");

        var desk = await ReadDeskAsync();
        await AssertEveryAcknowledgedTipIsOnTheDeskOnceAsync(desk, tips, codenames);
        await AssertEveryTriageJobRanOnceAsync(desk);
        var swept = await SweepOrphansAsync();
        output.WriteLine($"{desk.Count} submissions on the desk, {desk.Count - acknowledged} stored without acknowledgement; {swept} orphaned blobs swept; "
            + $"done after {clock.Elapsed}");
        Assert.True(swept >= StalledUploads, $"the sweep removed {swept} blobs, but the stalled uploads alone left {StalledUploads}");
        AssertBlobDirectoryHoldsExactlyTheDesksBlobs(desk);
    }

    /// <summary>Every submission with its items, read straight from the tables the desk lists.</summary>
    private async Task<List<StoredSubmission>> ReadDeskAsync()
    {
        var submissions = new Dictionary<Guid, StoredSubmission>();
        await using var connection = new NpgsqlConnection(Database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT s.id, s.codename_locator, i.id, i.batch_id, i.kind, i.ciphertext_bytes
            FROM submissions s LEFT JOIN submission_items i ON i.submission_id = s.id
            """, connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var id = reader.GetGuid(0);
            if (!submissions.TryGetValue(id, out var submission))
            {
                submissions[id] = submission = new StoredSubmission(id, reader.IsDBNull(1) ? [] : (byte[])reader[1], []);
            }

            if (!reader.IsDBNull(2))
            {
                submission.Items.Add(new StoredItem(reader.GetGuid(2), reader.GetGuid(3), reader.GetString(4), reader.GetInt64(5)));
            }
        }

        return [.. submissions.Values];
    }

    /// <summary>
    /// Each acknowledged codename opens exactly one submission holding that witness's message and file; no tip is
    /// stored twice; and every submission is whole (one batch, its manifest, its message), acknowledged or not.
    /// </summary>
    private async Task AssertEveryAcknowledgedTipIsOnTheDeskOnceAsync(List<StoredSubmission> desk, WitnessTip[] tips, string?[] codenames)
    {
        var decryptor = OpenPgpDecryptor.FromSecretKeys(await File.ReadAllBytesAsync(Keys.SecretKey), "");
        var byMarker = tips.ToDictionary(t => t.Marker);
        var tipOf = new Dictionary<Guid, WitnessTip>();
        foreach (var submission in desk)
        {
            Assert.Single(submission.Items.Select(i => i.BatchId).Distinct());
            Assert.Single(submission.Items, i => i.Kind == "manifest");
            var message = Encoding.UTF8.GetString(await DecryptAsync(decryptor, Assert.Single(submission.Items, i => i.Kind == "message")));
            var marker = MarkerPattern().Match(message).Value;
            Assert.True(byMarker.TryGetValue(marker, out var tip), $"submission {submission.Id} holds a message no witness sent");
            Assert.Equal(tip.Message, message);
            var files = submission.Items.Where(i => i.Kind == "file").ToList();
            Assert.Equal(tip.File is null ? 0 : 1, files.Count);
            if (tip.File is not null)
            {
                Assert.Equal(tip.File, await DecryptAsync(decryptor, files[0]));
            }

            Assert.True(tipOf.TryAdd(submission.Id, tip));
        }

        var stored = tipOf.Values.GroupBy(t => t.Index).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(stored.Count == 0, $"tips stored more than once: {string.Join(", ", stored)}");

        using var hashing = new Codenames(Options.Create(new CodenameOptions
        {
            Pepper = SecureIntakeCli.EnvironmentFor(Database)["SECUREINTAKE_Codenames__Pepper"],
            MemoryKiB = 8192,
            Iterations = 1,
        }));
        for (var i = 0; i < codenames.Length; i++)
        {
            if (codenames[i] is not { } codename)
            {
                continue;
            }

            var locator = hashing.Derive(codename).Locator;
            var opened = Assert.Single(desk, s => s.Locator.AsSpan().SequenceEqual(locator));
            Assert.Equal(i, tipOf[opened.Id].Index);
        }
    }

    /// <summary>
    /// Each committed batch completed its triage job once (its triage_checks row, unique per batch), and Hangfire
    /// holds exactly one job for it, succeeded: none lost, none enqueued twice, none still held by a dead worker.
    /// </summary>
    private async Task AssertEveryTriageJobRanOnceAsync(List<StoredSubmission> desk)
    {
        var batches = desk.SelectMany(s => s.Items.Select(i => i.BatchId)).ToHashSet();
        var checks = await ListAsync("SELECT batch_id::text FROM triage_checks");
        Assert.Equal(batches.Order(), checks.Select(Guid.Parse).Order());

        var jobs = await ListAsync("""
            SELECT j.statename || ' ' || j.arguments::text FROM hangfire.job j WHERE j.invocationdata::text LIKE '%BatchArrivedJob%'
            """);
        var jobsByBatch = jobs.GroupBy(j => Guid.Parse(GuidPattern().Matches(j)[1].Value)).ToDictionary(g => g.Key, g => g.ToList());
        Assert.Equal(batches.Order(), jobsByBatch.Keys.Order());
        Assert.All(jobsByBatch, batch => Assert.StartsWith("Succeeded ", Assert.Single(batch.Value), StringComparison.Ordinal));
    }

    /// <summary>Runs the orphan sweep as the workers' hourly job does, twice: when it first sees an orphan, and once its grace has passed.</summary>
    private async Task<int> SweepOrphansAsync()
    {
        await using var dataSource = NpgsqlDataSource.Create(Database);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var blobs = new BlobStore(Options.Create(new BlobStoreOptions { BlobDirectory = Blobs.Path, MinimumFreeBytes = 0 }));
        var sweep = new OrphanBlobSweep(blobs, dataSource, time, NullLogger<OrphanBlobSweep>.Instance);
        var swept = await sweep.RunAsync(CancellationToken.None);
        time.Advance(OrphanBlobSweep.Grace + TimeSpan.FromMinutes(1));
        return swept + await sweep.RunAsync(CancellationToken.None);
    }

    private void AssertBlobDirectoryHoldsExactlyTheDesksBlobs(List<StoredSubmission> desk)
    {
        var named = desk.SelectMany(s => s.Items).ToDictionary(i => i.Id.ToString("N"), i => i.CiphertextBytes);
        var onDisk = Directory.EnumerateFiles(Blobs.Path).ToDictionary(f => Path.GetFileName(f), f => new FileInfo(f).Length);
        Assert.Empty(onDisk.Keys.Except(named.Keys));
        Assert.Empty(named.Keys.Except(onDisk.Keys));
        Assert.All(named, item => Assert.Equal(item.Value, onDisk[item.Key]));
    }

    private async Task<byte[]> DecryptAsync(OpenPgpDecryptor decryptor, StoredItem item)
    {
        await using var ciphertext = File.OpenRead(Blobs.File(item.Id.ToString("N")));
        using var plaintext = new MemoryStream();
        await decryptor.DecryptAsync(ciphertext, plaintext, CancellationToken.None);
        return plaintext.ToArray();
    }

    private async Task<List<string>> ListAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(Database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan? patience = null, Func<Task<string>>? describe = null)
    {
        var deadline = DateTime.UtcNow + (patience ?? TimeSpan.FromSeconds(60));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"gave up waiting for {what}" + (describe is null ? "" : $": {await describe()}"));
            }

            await Task.Delay(20);
        }
    }

    private async Task<string> JobStatesAsync() => string.Join("; ", await ListAsync("""
        SELECT 'job ' || statename || ': ' || count(*) FROM hangfire.job GROUP BY statename
        UNION ALL SELECT 'queue ' || (fetchedat IS NOT NULL)::text || ' ' || coalesce(min(fetchedat)::text, '') || ': ' || count(*) FROM hangfire.jobqueue GROUP BY fetchedat IS NOT NULL
        UNION ALL SELECT 'server ' || id || ' ' || lastheartbeat::text FROM hangfire.server
        UNION ALL SELECT 'lock ' || resource || ' ' || acquired::text FROM hangfire.lock
        UNION ALL SELECT 'now ' || now()::text
        """));

    [GeneratedRegex("tip-[0-9]+-[0-9a-f]{32}")]
    private static partial Regex MarkerPattern();

    [GeneratedRegex("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")]
    private static partial Regex GuidPattern();

    private sealed record StoredSubmission(Guid Id, byte[] Locator, List<StoredItem> Items);

    private sealed record StoredItem(Guid Id, Guid BatchId, string Kind, long CiphertextBytes);
}
