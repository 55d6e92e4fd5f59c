using Npgsql;
using SecureIntake.Core.Editors;
using SecureIntake.Core.Triage;

namespace SecureIntake.Core.Tests.Triage;

/// <summary>
/// The queue over a few pages of submissions on three desks, with arrival times that tie: every page of every sort and
/// filter holds exactly the rows a plain sort of the editor's own submissions would, and none from another desk.
/// </summary>
public sealed class TriageListingTests : IAsyncLifetime
{
    private const int Count = 263;
    private static readonly string[] Desks = ["default", "tips", "investigations"];
    private static readonly string[] Priorities = ["low", "normal", "high", "urgent"];
    private static readonly DateTimeOffset Start = new(2026, 11, 1, 9, 0, 0, TimeSpan.Zero);
    private readonly List<Stored> _stored = [];
    private readonly Dictionary<string, Guid> _deskIds = [];
    private NpgsqlDataSource _dataSource = null!;
    private TriageListing _listing = null!;

    public async Task InitializeAsync()
    {
        _dataSource = await CoreDatabase.CreateAsync();
        _listing = new TriageListing(_dataSource);
        await using (var desks = _dataSource.CreateCommand("INSERT INTO desks (name) VALUES ('tips'), ('investigations')"))
        {
            await desks.ExecuteNonQueryAsync();
        }

        await using (var editors = _dataSource.CreateCommand("""
            INSERT INTO editors (name, role, password_hash, totp_secret) VALUES ('ada', 'editor', 'x', '\x0102030405060708090a0b0c0d0e0f1011121314')
            """))
        {
            await editors.ExecuteNonQueryAsync();
        }

        await using (var ids = _dataSource.CreateCommand("SELECT name, id FROM desks"))
        await using (var reader = await ids.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                _deskIds[reader.GetString(0)] = reader.GetGuid(1);
            }
        }

        var random = new Random(12);
        await using var batch = _dataSource.CreateBatch();
        for (var i = 0; i < Count; i++)
        {
            // Few distinct minutes, so many submissions arrive in the same one and only the id orders them.
            var row = new Stored(Guid.NewGuid(), Desks[random.Next(Desks.Length)], Start.AddMinutes(random.Next(90)), Priorities[random.Next(Priorities.Length)],
                random.Next(3) == 0 ? "army" : null, random.Next(4) == 0);
            _stored.Add(row);
            var command = new NpgsqlBatchCommand("""
                INSERT INTO submissions (id, desk_id, channel, received_at, witness_active_at, priority, tags, assignee_id)
                VALUES ($1, (SELECT id FROM desks WHERE name = $2), 'web', $3, $3, $4, $5, CASE WHEN $6 THEN (SELECT id FROM editors WHERE name = 'ada') END)
                """);
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = row.Id });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = row.Desk });
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = row.ReceivedAt });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = row.Priority });
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = row.Tag is null ? [] : [row.Tag] });
            command.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = row.AssignedToAda });
            batch.BatchCommands.Add(command);
        }

        await batch.ExecuteNonQueryAsync();
        await using var analyze = _dataSource.CreateCommand("ANALYZE submissions");
        await analyze.ExecuteNonQueryAsync();
    }

    public async Task DisposeAsync() => await _dataSource.DisposeAsync();

    public static TheoryData<string> Sorts => [QueueFilter.Newest, QueueFilter.Oldest, QueueFilter.ByPriority];

    [Theory]
    [MemberData(nameof(Sorts))]
    public async Task Every_page_of_every_sort_holds_exactly_the_scopes_submissions_in_order_with_the_right_total(string sort)
    {
        foreach (var (scopeName, scope, desks) in Scopes())
        {
            var filters = new (QueueFilter Filter, Func<Stored, bool> Keeps)[]
            {
                (new QueueFilter(Sort: sort), _ => true),
                (new QueueFilter(Tag: "army", Sort: sort), s => s.Tag == "army"),
                (new QueueFilter(Desk: "tips", Sort: sort), s => s.Desk == "tips"),
                (new QueueFilter(Assignee: "ada", Sort: sort), s => s.AssignedToAda),
                (new QueueFilter(Assignee: QueueFilter.Unassigned, Sort: sort), s => !s.AssignedToAda),
                (new QueueFilter(Priority: "urgent", Sort: sort), s => s.Priority == "urgent"),
                (new QueueFilter(Desk: "no-such-desk", Sort: sort), _ => false),
                (new QueueFilter(Assignee: "nobody-by-this-name", Sort: sort), _ => false),
            };
            foreach (var (filter, keeps) in filters)
            {
                var expected = Sorted(_stored.Where(s => desks.Contains(s.Desk) && keeps(s)), sort).Select(s => s.Id).ToList();
                var pageCount = Math.Max(1, (expected.Count + TriageListing.PageSize - 1) / TriageListing.PageSize);
                for (var page = 1; page <= pageCount + 1; page++)
                {
                    var listed = await _listing.ListAsync(scope, filter, page, CancellationToken.None);
                    var shown = Math.Min(page, pageCount);
                    var what = $"{scopeName}, {filter}, page {page}";
                    Assert.True(expected.Count == listed.Total, $"{what}: total {listed.Total}, expected {expected.Count}");
                    Assert.True(pageCount == listed.PageCount, $"{what}: {listed.PageCount} pages, expected {pageCount}");
                    Assert.True(shown == listed.Page, $"{what}: shows page {listed.Page}");
                    Assert.True(expected.Skip((shown - 1) * TriageListing.PageSize).Take(TriageListing.PageSize).SequenceEqual(listed.Rows.Select(r => r.Id)),
                        $"{what}: other rows or another order");
                    Assert.All(listed.Rows, row => Assert.Contains(row.Desk, desks));
                }
            }
        }
    }

    [Fact]
    public async Task Past_its_count_limit_the_queue_says_there_are_more_and_counts_on_to_the_page_asked_for()
    {
        var listing = new TriageListing(_dataSource, countLimit: 60);
        var expected = Sorted(_stored, QueueFilter.Newest).Select(s => s.Id).ToList();

        var first = await listing.ListAsync(DeskScope.Everything, new QueueFilter(), 1, CancellationToken.None);
        Assert.Equal((60L, true, 1, 1, true), (first.Total, first.MoreThanTotal, first.PageCount, first.Page, first.HasNextPage));
        Assert.Equal(expected.Take(TriageListing.PageSize), first.Rows.Select(r => r.Id));

        var second = await listing.ListAsync(DeskScope.Everything, new QueueFilter(), 2, CancellationToken.None);
        Assert.Equal((100L, true, 2, 2, true), (second.Total, second.MoreThanTotal, second.PageCount, second.Page, second.HasNextPage));
        Assert.Equal(expected.Skip(TriageListing.PageSize).Take(TriageListing.PageSize), second.Rows.Select(r => r.Id));

        // Counting to page 9 finds them all: the count is exact again, and the page is the last one.
        var beyond = await listing.ListAsync(DeskScope.Everything, new QueueFilter(), 9, CancellationToken.None);
        var pages = (Count + TriageListing.PageSize - 1) / TriageListing.PageSize;
        Assert.Equal(((long)Count, false, pages, pages, false), (beyond.Total, beyond.MoreThanTotal, beyond.PageCount, beyond.Page, beyond.HasNextPage));
        Assert.Equal(expected.Skip((pages - 1) * TriageListing.PageSize), beyond.Rows.Select(r => r.Id));
    }

    private IEnumerable<(string Name, DeskScope Scope, string[] Desks)> Scopes()
    {
        yield return ("editor of default and tips", DeskScope.Of([_deskIds["default"], _deskIds["tips"]]), ["default", "tips"]);
        yield return ("editor of investigations", DeskScope.Of([_deskIds["investigations"]]), ["investigations"]);
        yield return ("admin", DeskScope.Everything, Desks);
        yield return ("editor of no desk", DeskScope.Of([]), []);
    }

    private static IEnumerable<Stored> Sorted(IEnumerable<Stored> rows, string sort) => sort switch
    {
        QueueFilter.Oldest => rows.OrderBy(s => s.ReceivedAt).ThenBy(s => s.Id.ToString("D"), StringComparer.Ordinal),
        QueueFilter.ByPriority => rows.OrderByDescending(s => Array.IndexOf(Priorities, s.Priority)).ThenByDescending(s => s.ReceivedAt)
            .ThenBy(s => s.Id.ToString("D"), StringComparer.Ordinal),
        _ => rows.OrderByDescending(s => s.ReceivedAt).ThenBy(s => s.Id.ToString("D"), StringComparer.Ordinal),
    };

    private sealed record Stored(Guid Id, string Desk, DateTimeOffset ReceivedAt, string Priority, string? Tag, bool AssignedToAda);
}
