using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using SecureIntake.Core.Audit;
using SecureIntake.Core.Blobs;
using SecureIntake.Core.Editors;
using SecureIntake.Core.Intake;
using SecureIntake.Core.Recipients;
using SecureIntake.Core.Triage;
using SecureIntake.Crypto.Keys;
using SecureIntake.Testing;

namespace SecureIntake.Core.Tests.Triage;

public sealed class TriageTests : IAsyncLifetime, IDisposable
{
    // After the test keys' creation (gpg makes them now), on a whole minute.
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeSeconds((DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 60 * 60) + 3600);
    private readonly GnuPgHome _gpg = new();
    private readonly TemporaryDirectory _blobDirectory = new("si-blobs-");
    private readonly ManualClock _clock = new(Start);
    private NpgsqlDataSource _dataSource = null!;
    private BlobStore _blobs = null!;
    private IntakeService _intake = null!;
    private TriageListing _listing = null!;
    private TriageActions _actions = null!;
    private AuditLog _audit = null!;
    private Editor _alice = null!;
    private DeskScope _scope = null!;
    private RecipientKey _key = null!;

    public async Task InitializeAsync()
    {
        _dataSource = await CoreDatabase.CreateAsync();
        _key = await IntakeWorld.PrepareAsync(_dataSource, _gpg, _clock);
        var recipients = new RecipientStore(_dataSource, _clock);
        _blobs = IntakeWorld.Blobs(_blobDirectory);
        _intake = new IntakeService(recipients, _blobs, _dataSource, _clock);
        _listing = new TriageListing(_dataSource);
        _audit = new AuditLog(_dataSource, _clock);
        _actions = new TriageActions(_dataSource, recipients, _blobs, _audit, _clock);
        using var editors = new EditorStore(_dataSource, new PasswordHasher(8192, 1), _audit, _clock);
        _alice = (await editors.AddAsync("alice", EditorRole.Editor, "kettle-orbit-mangrove-17", CancellationToken.None)).Editor;
        var membership = new DeskMembership(_dataSource, _audit);
        await membership.JoinAsync(null, "alice", [RecipientStore.DefaultDesk], CancellationToken.None);
        _scope = await membership.ScopeOfAsync(_alice, CancellationToken.None);
    }

    public async Task DisposeAsync() => await _dataSource.DisposeAsync();

    public void Dispose()
    {
        _gpg.Dispose();
        _blobDirectory.Dispose();
    }

    [Fact]
    public async Task The_queue_filters_by_status_assignee_and_tag_and_pages_its_rows()
    {
        var first = await SubmitAsync("web");
        var second = await SubmitAsync("mail");
        var third = await SubmitAsync("web");

        await _actions.SetStatusAsync(_alice, _scope, [first, second], "in-review", CancellationToken.None);
        await _actions.AssignAsync(_alice, _scope, [second], "alice", CancellationToken.None);
        await _actions.AddTagAsync(_alice, _scope, [first, third], "Akimat", CancellationToken.None);

        Assert.Equal(new[] { first, second }.Order(), Ids(await _listing.ListAsync(_scope, new QueueFilter(Status: "in-review"), 1, CancellationToken.None)).Order());
        Assert.Equal([second], Ids(await _listing.ListAsync(_scope, new QueueFilter(Assignee: "alice"), 1, CancellationToken.None)));
        Assert.Equal(new[] { first, third }.Order(), Ids(await _listing.ListAsync(_scope, new QueueFilter(Tag: "akimat"), 1, CancellationToken.None)).Order());
        Assert.Equal([second], Ids(await _listing.ListAsync(_scope, new QueueFilter(Channel: "mail"), 1, CancellationToken.None)));
        var all = await _listing.ListAsync(_scope, new QueueFilter(Assignee: QueueFilter.Unassigned), 1, CancellationToken.None);
        Assert.Equal(2, all.Total);
        Assert.All(all.Rows, row => Assert.Equal(1, row.Files));
        Assert.All(all.Rows, row => Assert.Equal("< 1 MB", row.SizeBucket));
    }

    [Fact]
    public async Task A_follow_up_after_an_editor_looked_marks_the_submission_until_it_is_opened_again()
    {
        var id = await SubmitAsync("web");
        await _actions.MarkSeenAsync(_alice, _scope, id, CancellationToken.None);
        Assert.False((await _listing.FindAsync(_scope, id, CancellationToken.None))!.WitnessWroteSinceSeen);

        _clock.Now = Start.AddMinutes(5);
        await using (var followUp = await _intake.StartFollowUpAsync(id, CancellationToken.None))
        {
            await followUp.AddAsync(ItemKind.Message, null, "text/plain", new MemoryStream("one more thing"u8.ToArray()), CancellationToken.None);
            await followUp.CommitAsync(CancellationToken.None);
        }

        Assert.True((await _listing.FindAsync(_scope, id, CancellationToken.None))!.WitnessWroteSinceSeen);
        Assert.Equal([id], Ids(await _listing.ListAsync(_scope, new QueueFilter(WitnessWroteOnly: true), 1, CancellationToken.None)));
        _clock.Now = Start.AddMinutes(6);
        await _actions.MarkSeenAsync(_alice, _scope, id, CancellationToken.None);
        Assert.False((await _listing.FindAsync(_scope, id, CancellationToken.None))!.WitnessWroteSinceSeen);
    }

    [Fact]
    public async Task Every_change_is_in_the_history_and_the_audit_log_and_bad_values_change_nothing()
    {
        var id = await SubmitAsync("web");
        await _actions.SetStatusAsync(_alice, _scope, [id], "verified", CancellationToken.None);
        await _actions.SetPriorityAsync(_alice, _scope, [id], "urgent", CancellationToken.None);
        await _actions.AddNoteAsync(_alice, _scope, id, "Checked the video against the map: matches.", CancellationToken.None);

        var status = await Assert.ThrowsAsync<TriageRefusedException>(() => _actions.SetStatusAsync(_alice, _scope, [id], "approved", CancellationToken.None));
        var tag = await Assert.ThrowsAsync<TriageRefusedException>(() => _actions.AddTagAsync(_alice, _scope, [id], "<script>", CancellationToken.None));
        var assignee = await Assert.ThrowsAsync<TriageRefusedException>(() => _actions.AssignAsync(_alice, _scope, [id], "nobody-by-this-name", CancellationToken.None));
        // Each refusal names its kind and arguments, for the desk to word in the editor's language.
        Assert.Equal(TriageRefusal.NotAStatus, status.Refusal);
        Assert.Equal<object>(["approved"], status.Arguments);
        Assert.Equal(TriageRefusal.BadTag, tag.Refusal);
        Assert.Equal(TriageRefusal.NoSuchEditor, assignee.Refusal);
        Assert.Equal<object>(["nobody-by-this-name"], assignee.Arguments);

        var details = (await _actions.DetailsAsync(_scope, id, _listing, CancellationToken.None))!;
        Assert.Equal("verified", details.Row.Status);
        Assert.Equal("urgent", details.Row.Priority);
        Assert.Equal([("status", "verified"), ("priority", "urgent"), ("note-added", null)], details.Events.Select(e => (e.Kind!, e.Value)));
        Assert.All(details.Events, e => Assert.Null(e.Text));
        Assert.All(details.Events, e => Assert.Equal("alice", e.Editor));
        var note = details.Items.Single(i => i.Kind == "note");
        var decrypted = (await _gpg.DecryptAsync(Path.Combine(_blobDirectory.Path, note.Id.ToString("N")))).EnsureSuccess("gpg --decrypt").OutputText;
        Assert.Equal("Checked the video against the map: matches.", decrypted);
        var audit = await _audit.ListAsync(1, CancellationToken.None);
        Assert.Contains(audit, e => e.Action == "changed" && e.Detail == "status: verified" && e.SubmissionId == id);
        Assert.DoesNotContain(audit, e => e.Detail.Contains("video", StringComparison.Ordinal));
    }

    [Fact]
    public async Task History_written_as_text_before_it_was_stored_by_kind_still_reads_in_order_with_the_new_entries()
    {
        var id = await SubmitAsync("web");
        await using (var command = _dataSource.CreateCommand("INSERT INTO submission_events (submission_id, editor_id, at, change) VALUES ($1, $2, $3, 'status: triaged')"))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = id });
            command.Parameters.Add(new NpgsqlParameter { Value = _alice.Id });
            command.Parameters.Add(new NpgsqlParameter { Value = Start });
            await command.ExecuteNonQueryAsync();
        }

        await _actions.AssignAsync(_alice, _scope, [id], "alice", CancellationToken.None);
        await _actions.AddTagAsync(_alice, _scope, [id], "akimat", CancellationToken.None);
        await _actions.RecordReplyAsync(_alice, _scope, id, 2, CancellationToken.None);

        var events = (await _actions.DetailsAsync(_scope, id, _listing, CancellationToken.None))!.Events;
        Assert.Equal(
            [(null, null, "status: triaged"), ("assigned", "alice", null), ("tag-added", "akimat", null), ("reply-sent", "2", null)],
            events.Select(e => (e.Kind, e.Value, e.Text)));
        Assert.Equal(Start, events[0].At);
    }

    [Fact]
    public async Task Retention_deletes_rows_and_blobs_of_old_submissions_but_not_those_on_hold_and_warns_ahead()
    {
        var old = await SubmitAsync("web");
        var kept = await SubmitAsync("web");
        await _actions.SetHoldAsync(_alice, _scope, kept, true, CancellationToken.None);
        var oldItems = (await _actions.DetailsAsync(_scope, old, _listing, CancellationToken.None))!.Items;
        var keptItems = (await _actions.DetailsAsync(_scope, kept, _listing, CancellationToken.None))!.Items;
        // Each submission holds its one file and its batch's manifest: an empty list would let the checks below pass without looking.
        Assert.Equal(["file", "manifest"], oldItems.Select(i => i.Kind).Order());
        Assert.Equal(["file", "manifest"], keptItems.Select(i => i.Kind).Order());
        var oldBlobs = oldItems.Select(i => i.Id).ToList();
        var keptBlobs = keptItems.Select(i => i.Id).ToList();
        Assert.All(oldBlobs.Concat(keptBlobs), blob => Assert.True(_blobs.Length(blob) > 0, $"blob {blob} is on disk before the sweep"));
        var sweep = new RetentionSweep(_dataSource, _actions, _clock, NullLogger<RetentionSweep>.Instance);

        _clock.Now = Start.AddDays(88);
        Assert.Equal(1, await sweep.DueSoonAsync(_scope, CancellationToken.None));
        Assert.Equal(0, await sweep.RunAsync(CancellationToken.None));

        _clock.Now = Start.AddDays(91);
        Assert.Equal(1, await sweep.RunAsync(CancellationToken.None));

        Assert.Null(await _listing.FindAsync(_scope, old, CancellationToken.None));
        Assert.NotNull(await _listing.FindAsync(_scope, kept, CancellationToken.None));
        Assert.All(oldBlobs, blob => Assert.Equal(-1, _blobs.Length(blob)));
        Assert.All(keptBlobs, blob => Assert.True(_blobs.Length(blob) > 0, $"blob {blob} of the held submission is still on disk"));
        Assert.Contains(await _audit.ListAsync(1, CancellationToken.None), e => e.Action == "deleted" && e.SubmissionId == old && e.EditorName is null);
    }

    [Fact]
    public async Task Retention_counts_each_desk_from_its_own_number_of_days()
    {
        await new RecipientStore(_dataSource, _clock).CreateDeskAsync("breaking", 30, _key, CancellationToken.None);
        var longKept = await SubmitAsync("web");
        var shortKept = await SubmitAsync("web", "breaking");
        var sweep = new RetentionSweep(_dataSource, _actions, _clock, NullLogger<RetentionSweep>.Instance);

        _clock.Now = Start.AddDays(28);
        Assert.Equal(1, await sweep.DueSoonAsync(DeskScope.Everything, CancellationToken.None));
        Assert.Equal(0, await sweep.DueSoonAsync(_scope, CancellationToken.None));

        _clock.Now = Start.AddDays(31);
        Assert.Equal(1, await sweep.RunAsync(CancellationToken.None));
        Assert.Null(await _listing.FindAsync(DeskScope.Everything, shortKept, CancellationToken.None));
        Assert.NotNull(await _listing.FindAsync(DeskScope.Everything, longKept, CancellationToken.None));
    }

    private static List<Guid> Ids(QueuePage page) => page.Rows.Select(r => r.Id).ToList();

    private async Task<Guid> SubmitAsync(string channel, string desk = RecipientStore.DefaultDesk)
    {
        await using var draft = await _intake.StartAsync(desk, channel, CancellationToken.None);
        await draft.AddAsync(channel == "mail" ? ItemKind.Email : ItemKind.File, "a.txt", "text/plain", new MemoryStream("content"u8.ToArray()), CancellationToken.None);
        return await draft.CommitAsync(CancellationToken.None);
    }
}
