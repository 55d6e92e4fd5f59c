using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using SecureIntake.Core.Audit;
using SecureIntake.Core.Editors;
using SecureIntake.Core.Recipients;
using SecureIntake.Core.Storage;

namespace SecureIntake.Core.Tests.Editors;

public sealed class DeskMembershipTests : IAsyncLifetime, IDisposable
{
    private const string Password = "kettle-orbit-mangrove-17";
    private static readonly DateTimeOffset Start = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
    private readonly ManualClock _clock = new(Start);
    private NpgsqlDataSource _dataSource = null!;
    private AuditLog _audit = null!;
    private EditorStore _editors = null!;
    private DeskMembership _membership = null!;

    public async Task InitializeAsync()
    {
        _dataSource = await CoreDatabase.CreateAsync();
        _audit = new AuditLog(_dataSource, _clock);
        _editors = new EditorStore(_dataSource, new PasswordHasher(8192, 1), _audit, _clock);
        _membership = new DeskMembership(_dataSource, _audit);
        await using var desk = _dataSource.CreateCommand("INSERT INTO desks (name) VALUES ('investigations')");
        await desk.ExecuteNonQueryAsync();
    }

    public async Task DisposeAsync() => await _dataSource.DisposeAsync();

    public void Dispose() => _editors.Dispose();

    [Fact]
    public async Task Joining_and_leaving_desks_changes_what_the_editor_sees_and_each_change_is_audited_with_who_made_it()
    {
        var alice = (await _editors.AddAsync("alice", EditorRole.Editor, Password, CancellationToken.None)).Editor;
        var zoe = (await _editors.AddAsync("zoe", EditorRole.Admin, Password, CancellationToken.None)).Editor;

        Assert.Equal(["default", "investigations"], await _membership.JoinAsync(zoe, "Alice", ["investigations", "default"], CancellationToken.None));
        Assert.Equal(new[] { await DeskIdAsync("default"), await DeskIdAsync("investigations") }.Order(),
            (await _membership.ScopeOfAsync(alice, CancellationToken.None)).DeskIds.Order());
        Assert.Empty(await _membership.JoinAsync(zoe, "alice", ["default"], CancellationToken.None));

        Assert.Equal(["default"], await _membership.LeaveAsync(null, "alice", ["default"], CancellationToken.None));
        Assert.Equal([await DeskIdAsync("investigations")], (await _membership.ScopeOfAsync(alice, CancellationToken.None)).DeskIds);
        Assert.Equal(["investigations"], await _membership.DesksOfAsync("alice", CancellationToken.None));

        var audit = await _audit.ListAsync(1, CancellationToken.None);
        var changes = audit.Where(e => e.Action.StartsWith("desk member", StringComparison.Ordinal)).Reverse()
            .Select(e => (e.EditorName, e.Action, e.Detail)).ToList();
        Assert.Equal(
            [
                ("zoe", "desk member added", "alice on desk 'default'"),
                ("zoe", "desk member added", "alice on desk 'investigations'"),
                (null, "desk member removed", "alice on desk 'default'"),
            ],
            changes);
    }

    [Fact]
    public async Task An_unknown_desk_or_editor_is_refused_by_name_and_changes_nothing()
    {
        await _editors.AddAsync("alice", EditorRole.Editor, Password, CancellationToken.None);

        var desk = await Assert.ThrowsAsync<UnknownDeskException>(() => _membership.JoinAsync(null, "alice", ["default", "sport"], CancellationToken.None));
        Assert.Equal("there is no desk named 'sport'", desk.Message);
        await Assert.ThrowsAsync<UnknownDeskException>(() => _membership.LeaveAsync(null, "alice", ["sport"], CancellationToken.None));
        await Assert.ThrowsAsync<UnknownDeskException>(() => _membership.CheckDesksExistAsync(["default", "sport"], CancellationToken.None));
        var editor = await Assert.ThrowsAsync<EditorRefusedException>(() => _membership.JoinAsync(null, "bob", ["default"], CancellationToken.None));
        Assert.Equal("there is no editor named 'bob'", editor.Message);

        Assert.Empty(await _membership.DesksOfAsync("alice", CancellationToken.None));
        Assert.DoesNotContain(await _audit.ListAsync(1, CancellationToken.None), e => e.Action.StartsWith("desk member", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_admin_sees_every_desk_and_an_editor_of_no_desk_sees_none()
    {
        var zoe = (await _editors.AddAsync("zoe", EditorRole.Admin, Password, CancellationToken.None)).Editor;
        var bob = (await _editors.AddAsync("bob", EditorRole.Editor, Password, CancellationToken.None)).Editor;

        Assert.True((await _membership.ScopeOfAsync(zoe, CancellationToken.None)).IsEverything);
        var none = await _membership.ScopeOfAsync(bob, CancellationToken.None);
        Assert.False(none.IsEverything);
        Assert.Empty(none.DeskIds);
    }

    [Fact]
    public async Task Removing_an_editor_or_a_desk_takes_their_memberships_with_them()
    {
        await _editors.AddAsync("alice", EditorRole.Editor, Password, CancellationToken.None);
        await _editors.AddAsync("bob", EditorRole.Editor, Password, CancellationToken.None);
        await _membership.JoinAsync(null, "alice", ["default", "investigations"], CancellationToken.None);
        await _membership.JoinAsync(null, "bob", ["default", "investigations"], CancellationToken.None);

        await ExecuteAsync("DELETE FROM editors WHERE name = 'alice'");
        await ExecuteAsync("DELETE FROM desks WHERE name = 'investigations'");

        Assert.Equal(["bob"], (await _membership.AllAsync(CancellationToken.None)).Keys);
        Assert.Equal(["default"], await _membership.DesksOfAsync("bob", CancellationToken.None));
        await using var count = _dataSource.CreateCommand("SELECT count(*) FROM desk_members");
        Assert.Equal(1L, await count.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Upgrading_makes_every_existing_editor_a_member_of_every_existing_desk()
    {
        await using var dataSource = await CoreDatabase.CreateAsync(migrate: false);
        await using (var table = dataSource.CreateCommand(
            "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"))
        {
            await table.ExecuteNonQueryAsync();
        }

        // The database as the release before desk membership left it, with two desks and two editors.
        foreach (var (version, name, sql) in Migrator.Migrations().Where(m => m.Version < 9))
        {
            await using var command = dataSource.CreateCommand(sql);
            await command.ExecuteNonQueryAsync();
            await using var applied = dataSource.CreateCommand("INSERT INTO schema_migrations (version, name) VALUES (@version, @name)");
            applied.Parameters.AddWithValue("version", version);
            applied.Parameters.AddWithValue("name", name);
            await applied.ExecuteNonQueryAsync();
        }

        await using (var existing = dataSource.CreateCommand("""
            INSERT INTO desks (name) VALUES ('investigations');
            INSERT INTO editors (name, role, password_hash, totp_secret) VALUES
                ('alice', 'editor', 'x', decode(repeat('00', 20), 'hex')), ('zoe', 'admin', 'x', decode(repeat('00', 20), 'hex'));
            """))
        {
            await existing.ExecuteNonQueryAsync();
        }

        await new Migrator(dataSource, NullLogger<Migrator>.Instance).MigrateAsync(CancellationToken.None);

        var all = await new DeskMembership(dataSource, new AuditLog(dataSource, _clock)).AllAsync(CancellationToken.None);
        Assert.Equal(["alice", "zoe"], all.Keys.Order(StringComparer.Ordinal));
        Assert.All(all.Values, desks => Assert.Equal(["default", "investigations"], desks));
    }

    private async Task<Guid> DeskIdAsync(string name)
    {
        await using var command = _dataSource.CreateCommand("SELECT id FROM desks WHERE name = @name");
        command.Parameters.AddWithValue("name", name);
        return (Guid)(await command.ExecuteScalarAsync())!;
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var command = _dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
