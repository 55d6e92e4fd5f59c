using System.Diagnostics;
using System.Globalization;
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
using SecureIntake.Crypto.Keys;
using SecureIntake.Mail;
using SecureIntake.Mail.Ingest;
using SecureIntake.Testing;

namespace SecureIntake.Benchmarks;

/// <summary>
/// Many emails of mixed sizes through a real Dovecot into submissions by one gateway pass, against the
/// ceiling of merely fetching the same messages over IMAP (MailKit, same connection settings) into a
/// null sink; prints messages/s of both and the gateway process's peak memory.
/// </summary>
internal static class MailBenchmark
{
    public static async Task<int> RunAsync(string[] arguments)
    {
        var count = EncryptBenchmark.Option(arguments, "--count", 10_000);
        using var work = new TemporaryDirectory("si-mail-bench-");
        using var gpg = new GnuPgHome();
        await using var postgres = await PostgresCluster.StartAsync();
        var (sizes, bytes) = Sizes(count);
        Console.WriteLine($"mail benchmark: {count} messages ({bytes / (1 << 20)} MiB; 70% 4 KiB, 25% 64 KiB, 5% 1 MiB) through Dovecot on loopback, " +
            $"{Environment.ProcessorCount} cores, blobs in {work.Path}");

        var (certificates, _, _) = await EncryptBenchmark.MakeRecipientsAsync(gpg, work);
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
        var fill = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            await dovecot.DeliverAsync(Message(i, sizes[i]));
        }

        Console.WriteLine($"  delivered into the Maildir in {fill.Elapsed.TotalSeconds:F1} s");

        var ceiling = await FetchOnlyAsync(dovecot, count);

        var blobs = Directory.CreateDirectory(work.File("blobs")).FullName;
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
        }).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddSecureIntakeCore(configuration);
        services.AddSecureIntakeMail(configuration);
        await using var provider = services.BuildServiceProvider();

        var watch = Stopwatch.StartNew();
        await provider.GetRequiredService<ImapGateway>().RunAsync(CancellationToken.None);
        var seconds = watch.Elapsed.TotalSeconds;

        long submissions;
        await using (var connection = new NpgsqlConnection(database))
        {
            await connection.OpenAsync();
            await using var countCommand = new NpgsqlCommand("SELECT count(*) FROM submissions", connection);
            submissions = (long)(await countCommand.ExecuteScalarAsync())!;
        }

        var left = await dovecot.CountAsync();
        var peak = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        Console.WriteLine($"  fetch only (ceiling):  {count / ceiling,7:F1} messages/s ({ceiling:F1} s)");
        Console.WriteLine($"  gateway (encrypt, fsync, commit, expunge): {count / seconds,7:F1} messages/s ({seconds:F1} s) = {ceiling / seconds:P0} of the ceiling");
        Console.WriteLine($"  {submissions} submissions, {left} messages left in the mailbox; peak memory of this process (VmHWM) {long.Parse(peak, CultureInfo.InvariantCulture) / 1024.0:F1} MiB");
        return submissions == count && left == 0 ? 0 : 1;
    }

    private static async Task<double> FetchOnlyAsync(DovecotServer dovecot, int count)
    {
        using var client = new ImapClient();
        await client.ConnectAsync(dovecot.Host, dovecot.Port, SecureSocketOptions.None);
        await client.AuthenticateAsync(dovecot.User, dovecot.Password);
        await client.Inbox.OpenAsync(FolderAccess.ReadOnly);
        var watch = Stopwatch.StartNew();
        var messages = await client.Inbox.FetchAsync(0, -1, MessageSummaryItems.UniqueId | MessageSummaryItems.Size);
        foreach (var message in messages)
        {
            await using var stream = await client.Inbox.GetStreamAsync(message.UniqueId);
            await stream.CopyToAsync(Stream.Null);
        }

        var seconds = watch.Elapsed.TotalSeconds;
        await client.DisconnectAsync(true);
        return messages.Count == count ? seconds : throw new InvalidOperationException($"fetched {messages.Count} of {count}");
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
