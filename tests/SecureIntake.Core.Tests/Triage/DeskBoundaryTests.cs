using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using SecureIntake.Core.Audit;
using SecureIntake.Core.Blobs;
using SecureIntake.Core.Editors;
using SecureIntake.Core.Intake;
using SecureIntake.Core.Recipients;
using SecureIntake.Core.Replies;
using SecureIntake.Core.Triage;
using SecureIntake.Testing;

namespace SecureIntake.Core.Tests.Triage;

/// <summary>An editor of the default desk next to a submission of the investigations desk, which only an admin may see.</summary>
public sealed class DeskBoundaryTests : IAsyncLifetime, IDisposable
{
    private const string Password = "kettle-orbit-mangrove-17";
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeSeconds((DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 60 * 60) + 3600);
    private readonly GnuPgHome _gpg = new();
    private readonly TemporaryDirectory _blobDirectory = new("si-blobs-");
    private readonly ManualClock _clock = new(Start);
    private NpgsqlDataSource _dataSource = null!;
    private BlobStore _blobs = null!;
    private IntakeService _intake = null!;
    private RecipientStore _recipients = null!;
    private TriageListing _listing = null!;
    private TriageActions _actions = null!;
    private ThreadReplies _replies = null!;
    private AuditLog _audit = null!;
    private Editor _alice = null!;
    private DeskScope _aliceScope = null!;
    private DeskScope _adminScope = null!;
    private Guid _own;
    private Guid _other;

    public async Task InitializeAsync()
    {
        _dataSource = await CoreDatabase.CreateAsync();
        var key = await IntakeWorld.PrepareAsync(_dataSource, _gpg, _clock);
        _recipients = new RecipientStore(_dataSource, _clock);
        await _recipients.CreateDeskAsync("investigations", 90, key, CancellationToken.None);
        _blobs = IntakeWorld.Blobs(_blobDirectory);
        _intake = new IntakeService(_recipients, _blobs, _dataSource, _clock);
        _listing = new TriageListing(_dataSource);
        _audit = new AuditLog(_dataSource, _clock);
        _actions = new TriageActions(_dataSource, _recipients, _blobs, _audit, _clock);
        _replies = new ThreadReplies(_recipients, _blobs, _dataSource, _clock);
        var membership = new DeskMembership(_dataSource, _audit);
        using (var editors = new EditorStore(_dataSource, new PasswordHasher(8192, 1), _audit, _clock))
        {
            _alice = (await editors.AddAsync("alice", EditorRole.Editor, Password, CancellationToken.None)).Editor;
            var admin = (await editors.AddAsync("zoe", EditorRole.Admin, Password, CancellationToken.None)).Editor;
            await membership.JoinAsync(null, "alice", [RecipientStore.DefaultDesk], CancellationToken.None);
            _aliceScope = await membership.ScopeOfAsync(_alice, CancellationToken.None);
            _adminScope = await membership.ScopeOfAsync(admin, CancellationToken.None);
        }

        _own = await SubmitAsync(RecipientStore.DefaultDesk);
        _other = await SubmitAsync("investigations");
    }

    public async Task DisposeAsync() => await _dataSource.DisposeAsync();

    public void Dispose()
    {
        _gpg.Dispose();
        _blobDirectory.Dispose();
    }

    [Fact]
    public async Task An_editor_lists_counts_and_finds_only_their_desks_submissions_and_an_admin_sees_both()
    {
        var queue = await _listing.ListAsync(_aliceScope, new QueueFilter(), 1, CancellationToken.None);
        Assert.Equal([_own], queue.Rows.Select(r => r.Id));
        Assert.Equal(1, queue.Total);
        Assert.Empty((await _listing.ListAsync(_aliceScope, new QueueFilter(Desk: "investigations"), 1, CancellationToken.None)).Rows);
        Assert.Null(await _listing.FindAsync(_aliceScope, _other, CancellationToken.None));
        Assert.Null(await _actions.DetailsAsync(_aliceScope, _other, _listing, CancellationToken.None));
        Assert.NotNull(await _actions.DetailsAsync(_aliceScope, _own, _listing, CancellationToken.None));
        Assert.Equal([RecipientStore.DefaultDesk], await _recipients.DeskNamesAsync(_aliceScope, CancellationToken.None));

        var all = await _listing.ListAsync(_adminScope, new QueueFilter(), 1, CancellationToken.None);
        Assert.Equal(new[] { _own, _other }.Order(), all.Rows.Select(r => r.Id).Order());
        Assert.Equal(2, all.Total);
        Assert.NotNull(await _actions.DetailsAsync(_adminScope, _other, _listing, CancellationToken.None));
        Assert.Equal(["default", "investigations"], await _recipients.DeskNamesAsync(_adminScope, CancellationToken.None));

        // The retention warning counts only what the editor could put on hold.
        var sweep = new RetentionSweep(_dataSource, _actions, _clock, NullLogger<RetentionSweep>.Instance);
        _clock.Now = Start.AddDays(88);
        Assert.Equal(1, await sweep.DueSoonAsync(_aliceScope, CancellationToken.None));
        Assert.Equal(2, await sweep.DueSoonAsync(_adminScope, CancellationToken.None));
    }

    [Fact]
    public async Task Every_action_on_another_desks_submission_answers_as_for_one_that_does_not_exist_and_changes_nothing()
    {
        var before = await _actions.DetailsAsync(_adminScope, _other, _listing, CancellationToken.None);
        Func<Guid, Task>[] actions =
        [
            id => _actions.SetStatusAsync(_alice, _aliceScope, [id], "verified", CancellationToken.None),
            id => _actions.SetPriorityAsync(_alice, _aliceScope, [id], "urgent", CancellationToken.None),
            id => _actions.AssignAsync(_alice, _aliceScope, [id], "alice", CancellationToken.None),
            id => _actions.AssignAsync(_alice, _aliceScope, [id], "", CancellationToken.None),
            id => _actions.AddTagAsync(_alice, _aliceScope, [id], "army", CancellationToken.None),
            id => _actions.RemoveTagAsync(_alice, _aliceScope, [id], "army", CancellationToken.None),
            id => _actions.SetHoldAsync(_alice, _aliceScope, id, true, CancellationToken.None),
            id => _actions.AddNoteAsync(_alice, _aliceScope, id, "a note", CancellationToken.None),
            id => _replies.AddAsync(_aliceScope, id, "a reply", CancellationToken.None),
            id => _actions.RecordReplyAsync(_alice, _aliceScope, id, 1, CancellationToken.None),
            id => _actions.DeleteAsync(_alice, _aliceScope, id, "deleted by an editor", CancellationToken.None),
        ];

        foreach (var action in actions)
        {
            var missing = await Assert.ThrowsAsync<SubmissionNotFoundException>(() => action(Guid.NewGuid()));
            var elsewhere = await Assert.ThrowsAsync<SubmissionNotFoundException>(() => action(_other));
            Assert.Equal(missing.Message, elsewhere.Message);
        }

        Assert.False(await _actions.MarkSeenAsync(_alice, _aliceScope, _other, CancellationToken.None));

        var after = await _actions.DetailsAsync(_adminScope, _other, _listing, CancellationToken.None);
        Assert.NotNull(after);
        Assert.Equal(before!.Row, after.Row with { Tags = before.Row.Tags });
        Assert.Empty(after.Row.Tags);
        Assert.Empty(after.Events);
        Assert.Equal(before.Items, after.Items);
        Assert.All(after.Items, item => Assert.True(_blobs.Length(item.Id) > 0, $"blob {item.Id} is still on disk"));
        Assert.DoesNotContain(await _audit.ListAsync(1, CancellationToken.None), e => e.SubmissionId == _other);
    }

    [Fact]
    public async Task A_selection_with_one_submission_of_another_desk_is_refused_whole_and_an_admin_changes_both()
    {
        await Assert.ThrowsAsync<SubmissionNotFoundException>(() => _actions.SetStatusAsync(_alice, _aliceScope, [_own, _other], "verified", CancellationToken.None));
        await Assert.ThrowsAsync<SubmissionNotFoundException>(() => _actions.AddTagAsync(_alice, _aliceScope, [_own, Guid.NewGuid()], "army", CancellationToken.None));

        var own = (await _listing.FindAsync(_adminScope, _own, CancellationToken.None))!;
        Assert.Equal("new", own.Status);
        Assert.Empty(own.Tags);
        Assert.Equal("new", (await _listing.FindAsync(_adminScope, _other, CancellationToken.None))!.Status);

        await _actions.SetStatusAsync(_alice, _aliceScope, [_own], "in-review", CancellationToken.None);
        Assert.Equal("in-review", (await _listing.FindAsync(_aliceScope, _own, CancellationToken.None))!.Status);
        await _actions.SetStatusAsync(_alice, _adminScope, [_own, _other], "verified", CancellationToken.None);
        Assert.All((await _listing.ListAsync(_adminScope, new QueueFilter(), 1, CancellationToken.None)).Rows, row => Assert.Equal("verified", row.Status));
    }

    [Fact]
    public async Task An_editor_who_leaves_a_desk_stops_seeing_its_submissions_and_an_editor_of_no_desk_sees_none()
    {
        var membership = new DeskMembership(_dataSource, _audit);
        await membership.JoinAsync(null, "alice", ["investigations"], CancellationToken.None);
        var both = await membership.ScopeOfAsync(_alice, CancellationToken.None);
        Assert.Equal(2, (await _listing.ListAsync(both, new QueueFilter(), 1, CancellationToken.None)).Total);

        await membership.LeaveAsync(null, "alice", ["investigations", RecipientStore.DefaultDesk], CancellationToken.None);
        var none = await membership.ScopeOfAsync(_alice, CancellationToken.None);
        Assert.False(none.IsEverything);
        Assert.Equal(0, (await _listing.ListAsync(none, new QueueFilter(), 1, CancellationToken.None)).Total);
        Assert.Null(await _listing.FindAsync(none, _own, CancellationToken.None));
        Assert.Empty(await _recipients.DeskNamesAsync(none, CancellationToken.None));
    }

    [Fact]
    public async Task Assigning_to_an_editor_who_is_not_a_member_of_the_desk_is_refused_and_changes_nothing()
    {
        using (var editors = new EditorStore(_dataSource, new PasswordHasher(8192, 1), _audit, _clock))
        {
            await editors.AddAsync("bob", EditorRole.Editor, Password, CancellationToken.None);
        }

        await new DeskMembership(_dataSource, _audit).JoinAsync(null, "bob", ["investigations"], CancellationToken.None);

        var single = await Assert.ThrowsAsync<TriageRefusedException>(() => _actions.AssignAsync(_alice, _aliceScope, [_own], "bob", CancellationToken.None));
        Assert.Contains("not a member of desk 'default'", single.Message, StringComparison.Ordinal);
        // An admin's selection with one submission of a desk alice is not on is refused whole: her own desk's is not assigned either.
        var bulk = await Assert.ThrowsAsync<TriageRefusedException>(() => _actions.AssignAsync(_alice, _adminScope, [_own, _other], "alice", CancellationToken.None));
        Assert.Contains("not a member of desk 'investigations'", bulk.Message, StringComparison.Ordinal);

        foreach (var id in new[] { _own, _other })
        {
            var details = (await _actions.DetailsAsync(_adminScope, id, _listing, CancellationToken.None))!;
            Assert.Null(details.Row.Assignee);
            Assert.Empty(details.Events);
        }

        Assert.DoesNotContain(await _audit.ListAsync(1, CancellationToken.None), e => e.Action == "changed");

        // Members and admins are offered, and can be given it.
        Assert.Equal(["alice", "zoe"], await _actions.AssignableAsync(_aliceScope, _own, CancellationToken.None));
        Assert.Equal(["bob", "zoe"], await _actions.AssignableAsync(_adminScope, _other, CancellationToken.None));
        Assert.Empty(await _actions.AssignableAsync(_aliceScope, _other, CancellationToken.None));
        await _actions.AssignAsync(_alice, _aliceScope, [_own], "zoe", CancellationToken.None);
        await _actions.AssignAsync(_alice, _adminScope, [_other], "bob", CancellationToken.None);
        Assert.Equal("zoe", (await _listing.FindAsync(_adminScope, _own, CancellationToken.None))!.Assignee);
        Assert.Equal("bob", (await _listing.FindAsync(_adminScope, _other, CancellationToken.None))!.Assignee);
    }

    private async Task<Guid> SubmitAsync(string desk)
    {
        await using var draft = await _intake.StartAsync(desk, "web", CancellationToken.None);
        await draft.AddAsync(ItemKind.File, "a.txt", "text/plain", new MemoryStream("content"u8.ToArray()), CancellationToken.None);
        return await draft.CommitAsync(CancellationToken.None);
    }
}
