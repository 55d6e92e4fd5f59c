using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Npgsql;
using SecureIntake.Core.Blobs;
using SecureIntake.Core.Codenames;
using SecureIntake.Core.Intake;
using SecureIntake.Core.Recipients;
using SecureIntake.Testing;
using SecureIntake.Web.Witness;

namespace SecureIntake.Server.Tests.Cluster;

/// <summary>
/// Codename checks on two web nodes (each its own connections to one database): two run at once for both together,
/// so adding a node does not add to how fast anyone can guess.
/// </summary>
public sealed class SharedCodenameTurnsTests : IAsyncLifetime, IDisposable
{
    private const string Wrong = "one two three four five six seven";
    private readonly TemporaryDirectory _blobs = new("si-codename-turns-blobs-");
    private readonly Codenames _codenames = new(Options.Create(new CodenameOptions
    {
        Pepper = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
        MemoryKiB = 8192,
        Iterations = 1,
    }));

    private readonly List<NpgsqlDataSource> _nodes = [];
    private readonly List<CodenameCheck> _checks = [];
    private string _database = "";

    public async Task InitializeAsync()
    {
        _database = await (await PostgresCluster.GetSharedAsync()).CreateDatabaseAsync();
        (await SecureIntakeCli.RunAsync(_database, "migrate")).EnsureSuccess("migrate");
        var blobs = new BlobStore(Options.Create(new BlobStoreOptions { BlobDirectory = _blobs.Path, MinimumFreeBytes = 0 }));
        for (var i = 0; i < 2; i++)
        {
            var node = NpgsqlDataSource.Create(_database);
            _nodes.Add(node);
            var intake = new IntakeService(new RecipientStore(node, TimeProvider.System), blobs, node, TimeProvider.System);
            _checks.Add(new CodenameCheck(_codenames, intake, Options.Create(new IntakeLimits { MaxWaitingCodenameChecks = 8 }), TimeProvider.System, node));
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }

    public void Dispose()
    {
        _checks.ForEach(check => check.Dispose());
        _codenames.Dispose();
        _blobs.Dispose();
    }

    [Fact]
    public async Task Checks_sent_to_two_nodes_at_once_run_two_at_a_time_in_all_and_all_are_answered()
    {
        await using var blocker = new NpgsqlConnection(_database);
        await blocker.OpenAsync();
        var lookups = await BlockLookupsAsync(blocker);
        var answers = Enumerable.Range(0, 6).Select(i => _checks[i % 2].FindAsync(Wrong, CancellationToken.None)).ToList();

        // Two checks (one per node or both on one) reach the lookup; the other node's wait for a turn in PostgreSQL.
        await WaitUntilAsync(lookingUp: 2, waitingForATurn: 2);
        Assert.Equal(2, _checks.Sum(check => check.Checking));

        await lookups.RollbackAsync();
        foreach (var answer in answers)
        {
            Assert.Null(await answer.WaitAsync(TimeSpan.FromSeconds(60)));
        }

        Assert.Equal(0, _checks.Sum(check => check.Checking));
    }

    [Fact]
    public async Task A_turn_held_by_a_node_that_dies_is_free_again_for_the_other()
    {
        // A node that dies mid-check: its connection, and with it the turn's lock, ends.
        await using (var dying = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(_database) { Pooling = false }.ConnectionString))
        {
            await dying.OpenAsync();
            await using var both = new NpgsqlCommand("SELECT pg_advisory_lock(@First), pg_advisory_lock(@First + 1)", dying);
            both.Parameters.AddWithValue("First", 0x5345_4355_434f_4400); // CodenameCheck's first turn
            await both.ExecuteNonQueryAsync();
            var waiting = _checks[0].FindAsync(Wrong, CancellationToken.None);
            await WaitUntilAsync(lookingUp: 0, waitingForATurn: 1);
            Assert.False(waiting.IsCompleted);
        }

        Assert.Null(await _checks[1].FindAsync(Wrong, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60)));
    }

    /// <summary>Locks the submissions table, so every lookup waits in PostgreSQL until the transaction ends.</summary>
    private static async Task<NpgsqlTransaction> BlockLookupsAsync(NpgsqlConnection connection)
    {
        var transaction = await connection.BeginTransactionAsync();
        await using var command = new NpgsqlCommand("LOCK TABLE submissions IN ACCESS EXCLUSIVE MODE", connection, transaction);
        await command.ExecuteNonQueryAsync();
        return transaction;
    }

    /// <summary>Waits until so many lookups (blocked on the table) and waits for a turn (advisory locks) show, never more lookups.</summary>
    private async Task WaitUntilAsync(int lookingUp, int waitingForATurn)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        // Outside any transaction: within one, PostgreSQL answers pg_stat_activity from the snapshot it took first.
        await using var observer = new NpgsqlConnection(_database);
        await observer.OpenAsync();
        while (true)
        {
            await using var command = new NpgsqlCommand("""
                SELECT count(*) FILTER (WHERE wait_event = 'relation'), count(*) FILTER (WHERE wait_event = 'advisory')
                FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'
                """, observer);
            await using var reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            var (blocked, waiting) = (reader.GetInt64(0), reader.GetInt64(1));
            Assert.True(blocked <= lookingUp, $"{blocked} codename checks ran at once on two nodes");
            if (blocked == lookingUp && waiting == waitingForATurn)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{blocked} lookups and {waiting} waits for a turn within 60 s");
            await Task.Delay(20);
        }
    }
}
