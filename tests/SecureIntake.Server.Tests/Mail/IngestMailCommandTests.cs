using System.Text;
using Npgsql;
using SecureIntake.Testing;

namespace SecureIntake.Server.Tests.Mail;

/// <summary>`secureintake ingest-mail` as an MTA runs it: one message on stdin, an exit code the MTA understands.</summary>
public sealed class IngestMailCommandTests : IAsyncLifetime, IDisposable
{
    private const string Tip = "From: witness@example.invalid\r\nTo: tips@newsroom.invalid\r\nSubject: =?utf-8?b?0KHQstC40LTQtdGC0LXQu9GM?=\r\n" +
        "Content-Type: text/plain; charset=utf-8\r\n\r\nThey opened fire near the akimat at 14:10.\r\n";

    private readonly TemporaryDirectory _blobs = new("si-ingest-blobs-");

    public ServerTestKeys Keys { get; } = new();

    private string _database = "";

    public async Task InitializeAsync()
    {
        await Keys.InitializeAsync();
        _database = await (await PostgresCluster.GetSharedAsync()).CreateDatabaseAsync();
        (await SecureIntakeCli.RunAsync(_database, "keys", "add", Keys.Usable)).EnsureSuccess("keys add");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose()
    {
        Keys.Dispose();
        _blobs.Dispose();
    }

    [Fact]
    public async Task A_piped_message_is_committed_with_exit_0_and_gpg_decrypts_it_to_the_exact_bytes()
    {
        var result = await IngestAsync(Encoding.UTF8.GetBytes(Tip));

        Assert.True(result.ExitCode == 0, result.Error);
        var blobs = Directory.GetFiles(_blobs.Path);
        var plaintexts = new List<byte[]>();
        foreach (var blob in blobs)
        {
            plaintexts.Add(await Keys.DecryptAsync(blob));
        }

        Assert.Contains(plaintexts, p => p.AsSpan().SequenceEqual(Encoding.UTF8.GetBytes(Tip)));
        Assert.Equal("mail", await ScalarAsync<string>("SELECT channel FROM submissions"));
        Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM submissions WHERE codename_locator IS NOT NULL OR reply_certificate IS NOT NULL"));
    }

    [Fact]
    public async Task A_message_the_sender_encrypted_is_kept_as_it_is_as_its_submissions_one_item()
    {
        var pgpMime = "From: a@example.invalid\r\nContent-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"b\"\r\n\r\n" +
            "--b\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n--b\r\nContent-Type: application/octet-stream\r\n\r\n" +
            "-----BEGIN PGP MESSAGE-----\r\n\r\nhQEMA0000\r\n-----END PGP MESSAGE-----\r\n--b--\r\n";

        var result = await IngestAsync(Encoding.UTF8.GetBytes(pgpMime));

        // No manifest beside it: that the sender encrypted it, secureintake-desk pull notes once it decrypted the email.
        Assert.True(result.ExitCode == 0, result.Error);
        var blob = Assert.Single(Directory.GetFiles(_blobs.Path));
        Assert.Equal(Encoding.UTF8.GetBytes(pgpMime), await Keys.DecryptAsync(blob));
        Assert.Equal("email", await ScalarAsync<string>("SELECT string_agg(kind, ',') FROM submission_items"));
    }

    [Fact]
    public async Task Empty_input_is_not_a_message_and_is_refused_with_65_and_nothing_is_stored()
    {
        var empty = await IngestAsync([]);

        Assert.Equal(65, empty.ExitCode);
        Assert.Contains("the message is empty", empty.Error, StringComparison.Ordinal);
        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task A_message_over_the_size_limit_is_stored_encrypted_with_exit_0_and_marked_on_the_desk()
    {
        var large = Encoding.UTF8.GetBytes(Tip + new string('x', 5000) + "\r\n");

        var result = await IngestAsync(large, "--Mail:MaxMessageBytes=2048");

        Assert.True(result.ExitCode == 0, result.Error);
        var plaintexts = new List<byte[]>();
        foreach (var blob in Directory.GetFiles(_blobs.Path))
        {
            plaintexts.Add(await Keys.DecryptAsync(blob));
        }

        Assert.Contains(plaintexts, p => p.AsSpan().SequenceEqual(large));
        Assert.Equal(1L, await ScalarAsync<long>("SELECT count(*) FROM submissions"));
        Assert.Equal(1, await ScalarAsync<int>("SELECT quarantined FROM service_status WHERE component = 'mail-pipe'"));
    }

    [Fact]
    public async Task A_message_within_the_size_limit_is_not_marked()
    {
        var result = await IngestAsync(Encoding.UTF8.GetBytes(Tip), "--Mail:MaxMessageBytes=2048");

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM service_status WHERE quarantined > 0"));
    }

    [Fact]
    public async Task An_unknown_desk_exits_75_so_the_mta_keeps_the_message_and_stores_nothing()
    {
        var result = await IngestAsync(Encoding.UTF8.GetBytes(Tip), "--desk", "no-such-desk");

        Assert.Equal(75, result.ExitCode);
        Assert.Contains("no-such-desk", result.Error, StringComparison.Ordinal);
        AssertSaysNothingOfTheMessage(result);
        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task A_desk_without_a_usable_key_exits_75_and_stores_nothing()
    {
        await ScalarAsync<int>("WITH d AS (INSERT INTO desks (name) VALUES ('keyless') RETURNING 1) SELECT count(*)::int FROM d");

        var result = await IngestAsync(Encoding.UTF8.GetBytes(Tip), "--desk", "keyless");

        Assert.Equal(75, result.ExitCode);
        Assert.Contains("no usable recipient key", result.Error, StringComparison.Ordinal);
        AssertSaysNothingOfTheMessage(result);
        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task When_the_disk_floor_is_reached_it_exits_75_and_stores_nothing()
    {
        var result = await IngestAsync(Encoding.UTF8.GetBytes(Tip), $"--Storage:MinimumFreeBytes={long.MaxValue / 2}");

        Assert.Equal(75, result.ExitCode);
        Assert.Contains("Storage:MinimumFreeBytes", result.Error, StringComparison.Ordinal);
        AssertSaysNothingOfTheMessage(result);
        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task Settings_that_cannot_work_exit_75_never_65_so_nothing_bounces()
    {
        var result = await IngestAsync(Encoding.UTF8.GetBytes(Tip), "--Mail:MaxMessageBytes=1");

        Assert.Equal(75, result.ExitCode);
        Assert.Contains("Mail:MaxMessageBytes", result.Error, StringComparison.Ordinal);
        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task When_the_database_is_down_it_exits_75_so_the_mta_tries_again_later()
    {
        var result = await SecureIntakeCli.RunWithInputAsync("Host=127.0.0.1;Port=1;Database=none;Username=none;Timeout=3", Tip,
            "ingest-mail", $"--Storage:BlobDirectory={_blobs.Path}");

        Assert.Equal(75, result.ExitCode);
        Assert.Contains("try again later", result.Error, StringComparison.Ordinal);
        AssertSaysNothingOfTheMessage(result);
        Assert.Empty(Directory.GetFiles(_blobs.Path));
    }

    private Task<ToolResult> IngestAsync(byte[] message, params string[] settings) =>
        ExternalTool.RunAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, "secureintake.dll"), "ingest-mail", $"--Storage:BlobDirectory={_blobs.Path}", .. settings],
            message, SecureIntakeCli.EnvironmentFor(_database), TimeSpan.FromMinutes(2));

    /// <summary>An MTA logs what the command prints: never the tip's words or who sent it.</summary>
    private static void AssertSaysNothingOfTheMessage(ToolResult result)
    {
        foreach (var said in new[] { result.Error, result.OutputText })
        {
            Assert.DoesNotContain("witness@example.invalid", said, StringComparison.Ordinal);
            Assert.DoesNotContain("akimat", said, StringComparison.Ordinal);
        }
    }

    private async Task AssertNothingStoredAsync()
    {
        Assert.Empty(Directory.GetFiles(_blobs.Path));
        Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM submissions"));
    }

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(_database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
