using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Npgsql;
using SecureIntake.Core.Editors;
using SecureIntake.Testing;

namespace SecureIntake.Benchmarks;

/// <summary>
/// The desk's queue page over many submissions: fills the database with N submissions of varied metadata
/// (statuses, priorities, tags, assignees, channels, desks, arrival times over the 85 days before the default 90-day retention),
/// signs in editors who see different desks, and times the whole page over HTTP for a set of filters, reporting p50
/// and p99 per filter and editor: one of two desks holding 80 % of the submissions, one of a desk holding 20 %, and an
/// admin who sees all.
/// </summary>
internal static partial class QueueBenchmark
{
    private const string Password = "lantern-quiver-basalt-92";

    // Who signs in, and the desks they are a member of (none for the admin, who sees every desk).
    private static readonly (string Name, string[] Desks, bool Admin)[] Editors =
    [
        ("bench", ["default", "tips"], false),
        ("solo", ["investigations"], false),
        ("chief", [], true),
    ];

    private static readonly string[] Filters =
    [
        "",
        "status=new",
        "status=in-review&assignee=editor1",
        "assignee=-",
        "tag=army",
        "priority=urgent&sort=priority",
        "witness=1",
        "channel=mail&sort=oldest",
        "page=200",
    ];

    public static async Task<int> RunAsync(string[] arguments)
    {
        var count = EncryptBenchmark.Option(arguments, "--count", 100_000);
        var requests = EncryptBenchmark.Option(arguments, "--requests", 40);
        var disk = BenchmarkStorage.DiskParent(arguments);
        using var work = new TemporaryDirectory("si-queue-", disk);
        using var gpg = new GnuPgHome();
        await using var postgres = await BenchmarkStorage.StartDatabaseAsync(disk);
        Console.WriteLine($"queue benchmark: the desk's queue page over {count} submissions, {requests} requests per filter after a warm-up, " +
            $"{Environment.ProcessorCount} cores");
        Console.WriteLine($"  database: {await BenchmarkStorage.DescribeAsync(postgres)}");

        var (certificates, _, _) = await EncryptBenchmark.MakeRecipientsAsync(gpg, work);
        var database = await postgres.CreateDatabaseAsync();
        var environment = WebService.Settings(database, Directory.CreateDirectory(work.File("blobs")).FullName);
        await WebService.AdminAsync(["keys", "add", certificates], environment);
        await AddDesksAsync(database, "tips", "investigations");
        var secrets = new Dictionary<string, byte[]>();
        foreach (var (name, desks, admin) in Editors)
        {
            string[] command = ["editors", "add", name, .. admin ? new[] { "--admin" } : desks.SelectMany(d => new[] { "--desk", d })];
            var added = await WebService.AdminAsync(command, environment, System.Text.Encoding.UTF8.GetBytes(Password + "\n"));
            secrets[name] = Totp.FromBase32(SecretPattern().Match(added.OutputText).Groups[1].Value);
        }

        var fill = Stopwatch.StartNew();
        await FillAsync(database, count);
        Console.WriteLine($"  filled {count} submissions and vacuumed them (as autovacuum does soon after a bulk load) in {fill.Elapsed.TotalSeconds:F1} s");

        await using (var service = await WebService.StartAsync(environment))
        {
            foreach (var (name, desks, admin) in Editors)
            {
                Console.WriteLine($"  {name}: {(admin ? "admin, every desk" : $"editor of {string.Join(" and ", desks)}")}");
                // The queue is a desk page: it answers only on the desk's own listener.
                using var browser = await SignInAsync(new Uri(environment["SECUREINTAKE_Desk__Urls"]), name, secrets[name]);
                await TimeFiltersAsync(browser, requests);
            }
        }

        return 0;
    }

    private static async Task TimeFiltersAsync(HttpClient browser, int requests)
    {
        foreach (var filter in Filters)
        {
            var path = new Uri($"/desk?{filter}", UriKind.Relative);
            for (var i = 0; i < 5; i++)
            {
                await GetPageAsync(browser, path);
            }

            var times = new List<double>(requests);
            for (var i = 0; i < requests; i++)
            {
                var watch = Stopwatch.StartNew();
                var rows = await GetPageAsync(browser, path);
                times.Add(watch.Elapsed.TotalMilliseconds);
                if (i == 0)
                {
                    Console.Write($"    {(filter.Length == 0 ? "(no filter)" : filter),-36} {rows,3} rows");
                }
            }

            times.Sort();
            Console.WriteLine($"  p50 {SubmissionsBenchmark.Percentile(times, 0.50),6:F1} ms  p99 {SubmissionsBenchmark.Percentile(times, 0.99),6:F1} ms");
        }
    }

    /// <summary>More desks, each with the default desk's recipients (a desk without a usable key stops the service from starting).</summary>
    private static async Task AddDesksAsync(string database, params string[] names)
    {
        await using var dataSource = NpgsqlDataSource.Create(database);
        await using var command = dataSource.CreateCommand("""
            INSERT INTO desks (name) SELECT unnest(@names);
            INSERT INTO recipient_keys (desk_id, fingerprint, certificate)
            SELECT d.id, r.fingerprint, r.certificate FROM desks d CROSS JOIN recipient_keys r
            WHERE d.name = ANY(@names) AND r.desk_id = (SELECT id FROM desks WHERE name = 'default');
            """);
        command.Parameters.AddWithValue("names", names);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Metadata only, as the queue sees it; no blobs are needed to list submissions.</summary>
    private static async Task FillAsync(string database, int count)
    {
        await using var dataSource = NpgsqlDataSource.Create(database);
        // The benchmark's editors stand for editors who already chose their own password and authenticator.
        await using (var renewed = dataSource.CreateCommand("UPDATE editors SET password_set_by_admin = false, totp_seen_by_admin = false"))
        {
            await renewed.ExecuteNonQueryAsync();
        }

        await using var command = dataSource.CreateCommand("""
            INSERT INTO editors (name, role, password_hash, totp_secret)
            SELECT 'editor' || n, 'editor', 'x', substring(sha256(random()::text::bytea) from 1 for 20) FROM generate_series(1, 8) n;

            INSERT INTO submissions (id, desk_id, channel, received_at, witness_active_at, status, priority, tags, assignee_id,
                                     file_count, ciphertext_bytes, witness_batches, editor_seen_batches)
            SELECT gen_random_uuid(), (SELECT id FROM desks WHERE name = CASE WHEN r7 < 0.5 THEN 'default' WHEN r7 < 0.8 THEN 'tips' ELSE 'investigations' END),
                   CASE WHEN r1 < 0.8 THEN 'web' ELSE 'mail' END, t, t,
                   (ARRAY['new','in-review','needs-follow-up','verified','published','discarded'])[1 + floor(r2 * 6)::int],
                   (ARRAY['urgent','high','normal','normal','normal','low'])[1 + floor(r3 * 6)::int],
                   CASE WHEN r4 < 0.3 THEN ARRAY['army'] WHEN r4 < 0.5 THEN ARRAY['police', 'video'] ELSE '{}' END,
                   CASE WHEN r5 < 0.4 THEN NULL ELSE (SELECT id FROM editors WHERE name = 'editor' || (1 + floor((r5 - 0.4) / 0.6 * 8)::int)) END,
                   floor(r6 * 5)::int, (r6 * 50000000)::bigint, 1 + floor(r1 * 3)::int, CASE WHEN r2 < 0.5 THEN 1 ELSE NULL END
            FROM (SELECT date_trunc('minute', now() - random() * interval '85 days') t, random() r1, random() r2, random() r3, random() r4,
                         random() r5, random() r6, random() r7
                  FROM generate_series(1, @count)) g;
            """);
        command.CommandTimeout = 600;
        command.Parameters.AddWithValue("count", count);
        await command.ExecuteNonQueryAsync();

        // The state a table of this size is in on a running service: autovacuum has set its visibility map and statistics.
        // Left to autovacuum, that pass starts about a minute after the bulk load, in the middle of the timed requests.
        await using var vacuum = dataSource.CreateCommand("VACUUM ANALYZE submissions");
        vacuum.CommandTimeout = 600;
        await vacuum.ExecuteNonQueryAsync();
    }

    private static async Task<HttpClient> SignInAsync(Uri address, string name, byte[] secret)
    {
        var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() }) { BaseAddress = address };
        var page = await browser.GetStringAsync(new Uri("/desk/sign-in", UriKind.Relative));
        var token = TokenPattern().Match(page).Groups[1].Value;
        var code = Totp.Code(secret, Totp.StepAt(DateTimeOffset.UtcNow));
        using var response = await browser.PostAsync(new Uri("/desk/sign-in", UriKind.Relative),
            new FormUrlEncodedContent([new("token", token), new("name", name), new("password", Password), new("code", code)]));
        return response.StatusCode == HttpStatusCode.Redirect ? browser : throw new InvalidOperationException($"sign-in failed: {response.StatusCode}");
    }

    private static async Task<int> GetPageAsync(HttpClient browser, Uri path)
    {
        using var response = await browser.GetAsync(path);
        response.EnsureSuccessStatusCode();
        return RowPattern().Count(await response.Content.ReadAsStringAsync());
    }

    [GeneratedRegex(@"TOTP secret[^:]*: ([A-Z2-7]+)")]
    private static partial Regex SecretPattern();

    [GeneratedRegex("name=\"token\" value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();

    [GeneratedRegex("<a href=\"/desk/submissions/")]
    private static partial Regex RowPattern();
}
