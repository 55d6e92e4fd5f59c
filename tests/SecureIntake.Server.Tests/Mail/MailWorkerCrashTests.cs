using System.Globalization;
using System.Text;
using Npgsql;
using SecureIntake.Testing;

namespace SecureIntake.Server.Tests.Mail;

/// <summary>
/// The real `secureintake worker` draining a real Dovecot, killed with SIGKILL in the middle of a pass and started
/// again: every message ends up stored exactly once, byte for byte, and the mailbox is drained.
/// </summary>
public sealed class MailWorkerCrashTests : IAsyncLifetime, IDisposable
{
    // Enough that a pass outlasts the moment the first row appears by far, so the kill lands mid-pass.
    private const int MessageCount = 200;

    // Hangfire starts the gateway on the minute, so a pass may only begin a minute after the worker does.
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(4);

    private readonly TemporaryDirectory _blobs = new("si-mail-crash-blobs-");
    private readonly TemporaryDirectory _secrets = new("si-mail-crash-secrets-");
    private readonly ServerTestKeys _keys = new();
    private DovecotServer _dovecot = null!;
    private string _database = "";

    public async Task InitializeAsync()
    {
        await _keys.InitializeAsync();
        _dovecot = await DovecotServer.StartAsync();
        _database = await (await PostgresCluster.GetSharedAsync()).CreateDatabaseAsync();
        (await SecureIntakeCli.RunAsync(_database, "keys", "add", _keys.Usable)).EnsureSuccess("keys add");
        await File.WriteAllTextAsync(_secrets.File("imap-password"), _dovecot.Password);
    }

    public async Task DisposeAsync() => await _dovecot.DisposeAsync();

    public void Dispose()
    {
        _keys.Dispose();
        _blobs.Dispose();
        _secrets.Dispose();
    }

    [Fact]
    public async Task A_worker_killed_mid_pass_and_started_again_stores_every_message_exactly_once()
    {
        var messages = await DeliverAsync();

        await KillMidPassAsync();
        await RunUntilDrainedAsync();

        Assert.Equal(0, await _dovecot.CountAsync());
        await AssertStoredExactlyOnceAsync(messages);
    }

    [Fact]
    public async Task With_move_to_folder_a_worker_killed_mid_pass_leaves_every_message_in_the_folder_and_stored_once()
    {
        await _dovecot.CreateFolderAsync("Processed");
        var messages = await DeliverAsync();

        await KillMidPassAsync("--Mail:Imap:MoveToFolder=Processed");
        await RunUntilDrainedAsync("--Mail:Imap:MoveToFolder=Processed");

        Assert.Equal(0, await _dovecot.CountAsync());
        Assert.Equal(MessageCount, await _dovecot.CountAsync("Processed"));
        await AssertStoredExactlyOnceAsync(messages);
    }

    private async Task<List<byte[]>> DeliverAsync()
    {
        var messages = new List<byte[]>();
        for (var i = 0; i < MessageCount; i++)
        {
            var message = Encoding.UTF8.GetBytes(
                $"From: witness{i}@example.invalid\r\nTo: tips@newsroom.invalid\r\nSubject: tip {i}\r\nMessage-ID: <{Guid.NewGuid()}@example.invalid>\r\n" +
                $"Content-Type: text/plain; charset=utf-8\r\n\r\nСвидетель {i}: {Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3000))}\r\n");
            await _dovecot.DeliverAsync(message);
            messages.Add(message);
        }

        return messages;
    }

    /// <summary>Starts the worker and kills it (SIGKILL, no shutdown of any kind) once some but not all messages are stored.</summary>
    private async Task KillMidPassAsync(params string[] settings)
    {
        await using var worker = StartWorker(settings);
        await WaitForAsync(worker, async () => await SubmissionsAsync() > 0, "the first message to be stored");
        worker.Process.Kill();
        await worker.Process.WaitForExitAsync();

        var stored = await SubmissionsAsync();
        Assert.True(stored < MessageCount, $"the worker stored all {stored} messages before it was killed: the crash was not mid-pass");
        Assert.True(await _dovecot.CountAsync() > 0, "the mailbox was drained before the worker was killed");
    }

    private async Task RunUntilDrainedAsync(params string[] settings)
    {
        await using var worker = StartWorker(settings);
        await WaitForAsync(worker, async () => await _dovecot.CountAsync() == 0 && await LedgerRowsAsync() == 0, "the mailbox to be drained");
        await worker.StopAsync();
    }

    private RunningService StartWorker(string[] settings) => SecureIntakeCli.Start(_database, "worker",
    [
        $"--Storage:BlobDirectory={_blobs.Path}",
        "--Mail:Imap:Host=127.0.0.1",
        $"--Mail:Imap:Port={_dovecot.Port.ToString(CultureInfo.InvariantCulture)}",
        "--Mail:Imap:Security=none",
        $"--Mail:Imap:User={_dovecot.User}",
        $"--Mail:Imap:PasswordFile={_secrets.File("imap-password")}",
        "--Mail:Imap:IntervalMinutes=1",
        .. settings,
    ]);

    private static async Task WaitForAsync(RunningService worker, Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (!await condition())
        {
            if (worker.Process.HasExited)
            {
                var (code, output) = await worker.StopAsync();
                throw new InvalidOperationException($"the worker exited with {code} while waiting for {what}: {output}");
            }

            if (DateTime.UtcNow > deadline)
            {
                var (_, output) = await worker.StopAsync();
                throw new TimeoutException($"waited {Deadline.TotalMinutes} minutes for {what}; the worker printed: {output}");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>
    /// One submission per message, each holding one email item whose blob gpg decrypts to that message's bytes;
    /// no ledger row is left. Blobs of a pass cut short before its commit are orphans the sweep removes, not submissions.
    /// </summary>
    private async Task AssertStoredExactlyOnceAsync(List<byte[]> messages)
    {
        Assert.Equal(MessageCount, await SubmissionsAsync());
        Assert.Equal(0L, await LedgerRowsAsync());
        var emails = new List<Guid>();
        await using (var connection = new NpgsqlConnection(_database))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT id FROM submission_items WHERE kind = 'email'", connection);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                emails.Add(reader.GetGuid(0));
            }
        }

        Assert.Equal(MessageCount, emails.Count);
        var stored = new List<string>();
        foreach (var id in emails)
        {
            stored.Add(Convert.ToHexString(await _keys.DecryptAsync(Path.Combine(_blobs.Path, id.ToString("N")))));
        }

        Assert.Equal(
            messages.Select(Convert.ToHexString).Order(StringComparer.Ordinal),
            stored.Order(StringComparer.Ordinal));
    }

    private async Task<long> SubmissionsAsync() => await ScalarAsync("SELECT count(*) FROM submissions WHERE channel = 'mail'");

    private async Task<long> LedgerRowsAsync() => await ScalarAsync("SELECT count(*) FROM mail_messages");

    private async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
