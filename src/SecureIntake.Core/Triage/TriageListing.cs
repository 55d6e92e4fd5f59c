using System.Text;
using Dapper;
using Npgsql;
using SecureIntake.Core.Editors;
using SecureIntake.Core.Storage;

namespace SecureIntake.Core.Triage;

/// <summary>What the queue may be narrowed to; null means "any".</summary>
public sealed record QueueFilter(
    string? Status = null,
    string? Desk = null,
    string? Assignee = null,
    string? Tag = null,
    string? Channel = null,
    string? Priority = null,
    bool WitnessWroteOnly = false,
    string Sort = QueueFilter.Newest)
{
    public const string Newest = "newest";
    public const string Oldest = "oldest";
    public const string ByPriority = "priority";

    /// <summary>The assignee filter value for "nobody".</summary>
    public const string Unassigned = "-";
}

/// <summary>One row of the queue: metadata only, never content.</summary>
public sealed record QueueRow(
    Guid Id,
    string Desk,
    string Channel,
    DateTimeOffset ReceivedAt,
    string Status,
    string? Assignee,
    string Priority,
    IReadOnlyList<string> Tags,
    int Files,
    string SizeBucket,
    bool WitnessWroteSinceSeen,
    bool OnHold);

/// <summary>
/// One page of the queue. When <see cref="MoreThanTotal"/>, the count stopped at <see cref="Total"/> rows (a whole number of
/// pages, <see cref="PageCount"/>): there are more submissions and more pages than that.
/// </summary>
public sealed record QueuePage(IReadOnlyList<QueueRow> Rows, int Page, int PageCount, long Total, bool MoreThanTotal = false)
{
    public bool HasNextPage => Page < PageCount || MoreThanTotal;
}

/// <summary>
/// The triage queue over submissions' plaintext metadata (to the minute, sizes as buckets), filtered,
/// sorted and paged in SQL against the indexes of migrations 0006 and 0012. Only submissions in the asker's
/// <see cref="DeskScope"/> exist here: the others are neither listed, counted nor found.
/// </summary>
/// <param name="countLimit">How far the queue counts before it says "more than": <see cref="CountLimit"/>, smaller only in tests.</param>
public sealed class TriageListing(NpgsqlDataSource dataSource, int countLimit = TriageListing.CountLimit)
{
    public const int PageSize = 50;

    /// <summary>
    /// The queue counts matching submissions up to this many (200 pages), or up to the page asked for when that is further:
    /// past it an exact figure helps no editor, and counting an 80,000-row scope was most of the page's time.
    /// </summary>
    public const int CountLimit = 10_000;

    public static readonly IReadOnlyList<string> Statuses = ["new", "in-review", "needs-follow-up", "verified", "published", "discarded"];
    public static readonly IReadOnlyList<string> Priorities = ["urgent", "high", "normal", "low"];
    public static readonly IReadOnlyList<string> Channels = ["web", "mail"];

    // Exactly the expression of the index submissions_by_priority (migration 0012), so that sorting by priority reads it in order.
    private const string PriorityRank = "array_position(ARRAY['urgent','high','normal','low']::text[], s.priority)";

    private const string RowColumns = """
        s.id AS Id, d.name AS Desk, s.channel AS Channel, s.received_at AS ReceivedAt, s.status AS Status, e.name AS Assignee,
        s.priority AS Priority, s.tags AS Tags, s.file_count AS Files, s.ciphertext_bytes AS Bytes,
        s.editor_seen_batches IS NOT NULL AND s.witness_batches > s.editor_seen_batches AS WitnessWroteSinceSeen, s.on_hold AS OnHold
        """;

    public async Task<QueuePage> ListAsync(DeskScope scope, QueueFilter filter, int page, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(filter);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var (where, arguments) = Where(scope, filter);

        // The count reads submissions alone (the filters name desks and assignees by id), and only as far as it must: to the
        // page asked for, and at least to the limit. One row more says whether there are more.
        page = Math.Max(page, 1);
        var counted = Math.Max(countLimit, (long)page * PageSize);
        var found = await connection.ScalarAsync<long>($"SELECT count(*) FROM (SELECT 1 FROM submissions s {where} LIMIT {counted + 1}) c", arguments, null,
            cancellationToken).ConfigureAwait(false);
        var moreThanTotal = found > counted;
        var total = moreThanTotal ? counted : found;
        var pageCount = (int)Math.Max(1, moreThanTotal ? total / PageSize : (total + PageSize - 1) / PageSize);
        page = Math.Min(page, pageCount);

        var order = filter.Sort switch
        {
            QueueFilter.Oldest => "s.received_at ASC, s.id",
            QueueFilter.ByPriority => $"{PriorityRank}, s.received_at DESC, s.id",
            _ => "s.received_at DESC, s.id",
        };
        // The page's ids first, then their rows: the rows skipped to reach a far page are read from an index of migration
        // 0012 (its order, with the desk for the scope), never joined or fetched.
        var rows = await connection.QueryAsync<StoredRow>($"""
            SELECT {RowColumns}
            FROM (SELECT s.id FROM submissions s {where} ORDER BY {order} LIMIT {PageSize} OFFSET {(page - 1) * PageSize}) p
            JOIN submissions s ON s.id = p.id JOIN desks d ON d.id = s.desk_id LEFT JOIN editors e ON e.id = s.assignee_id
            ORDER BY {order}
            """, arguments, null, cancellationToken).ConfigureAwait(false);
        return new QueuePage([.. rows.Select(r => r.ToQueueRow())], page, pageCount, total, moreThanTotal);
    }

    /// <summary>One submission's queue row, or null when it does not exist or is outside <paramref name="scope"/>.</summary>
    public async Task<QueueRow?> FindAsync(DeskScope scope, Guid id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scope);
        var row = await dataSource.QuerySingleOrDefaultAsync<StoredRow>($"""
            SELECT {RowColumns} FROM submissions s JOIN desks d ON d.id = s.desk_id LEFT JOIN editors e ON e.id = s.assignee_id
            WHERE s.id = @Id AND {scope.Condition("s.desk_id")}
            """, scope.Arguments(new { Id = id }), cancellationToken).ConfigureAwait(false);
        return row?.ToQueueRow();
    }

    public static string SizeBucket(long bytes) => bytes switch
    {
        < 1_000_000 => "< 1 MB",
        < 10_000_000 => "1-10 MB",
        < 100_000_000 => "10-100 MB",
        < 1_000_000_000 => "100 MB-1 GB",
        _ => "> 1 GB",
    };

    private static (string Where, DynamicParameters Arguments) Where(DeskScope scope, QueueFilter filter)
    {
        var conditions = new List<string>();
        var arguments = scope.Arguments();
        if (!scope.IsEverything)
        {
            conditions.Add(scope.Condition("s.desk_id"));
        }

        void Add(string condition, string name, object value)
        {
            conditions.Add(condition);
            arguments.Add(name, value);
        }

        if (!string.IsNullOrEmpty(filter.Status))
        {
            Add("s.status = @status", "status", filter.Status);
        }

        if (!string.IsNullOrEmpty(filter.Desk))
        {
            Add("s.desk_id = (SELECT id FROM desks WHERE name = @desk)", "desk", filter.Desk);
        }

        if (filter.Assignee == QueueFilter.Unassigned)
        {
            conditions.Add("s.assignee_id IS NULL");
        }
        else if (!string.IsNullOrEmpty(filter.Assignee))
        {
            Add("s.assignee_id = (SELECT id FROM editors WHERE name = @assignee)", "assignee", filter.Assignee);
        }

        if (!string.IsNullOrEmpty(filter.Tag))
        {
            Add("s.tags @> ARRAY[@tag]::text[]", "tag", filter.Tag);
        }

        if (!string.IsNullOrEmpty(filter.Channel))
        {
            Add("s.channel = @channel", "channel", filter.Channel);
        }

        if (!string.IsNullOrEmpty(filter.Priority))
        {
            Add("s.priority = @priority", "priority", filter.Priority);
        }

        if (filter.WitnessWroteOnly)
        {
            conditions.Add("s.editor_seen_batches IS NOT NULL AND s.witness_batches > s.editor_seen_batches");
        }

        var where = new StringBuilder();
        if (conditions.Count > 0)
        {
            where.Append("WHERE ").AppendJoin(" AND ", conditions);
        }

        return (where.ToString(), arguments);
    }

    // A class with setters rather than a positional record: Dapper matches a constructor only on exact column types, and
    // Npgsql types a text[] column as Array.
    private sealed class StoredRow
    {
        public Guid Id { get; init; }

        public string Desk { get; init; } = "";

        public string Channel { get; init; } = "";

        public DateTimeOffset ReceivedAt { get; init; }

        public string Status { get; init; } = "";

        public string? Assignee { get; init; }

        public string Priority { get; init; } = "";

        public string[] Tags { get; init; } = [];

        public int Files { get; init; }

        public long Bytes { get; init; }

        public bool WitnessWroteSinceSeen { get; init; }

        public bool OnHold { get; init; }

        public QueueRow ToQueueRow() =>
            new(Id, Desk, Channel, ReceivedAt, Status, Assignee, Priority, Tags, Files, SizeBucket(Bytes), WitnessWroteSinceSeen, OnHold);
    }
}
