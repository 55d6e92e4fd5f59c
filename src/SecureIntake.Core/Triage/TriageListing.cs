using System.Text;
using Npgsql;
using SecureIntake.Core.Editors;

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

public sealed record QueuePage(IReadOnlyList<QueueRow> Rows, int Page, int PageCount, long Total);

/// <summary>
/// The triage queue over submissions' plaintext metadata (to the minute, sizes as buckets), filtered,
/// sorted and paged in SQL against the indexes of migrations 0006 and 0012. Only submissions in the asker's
/// <see cref="DeskScope"/> exist here: the others are neither listed, counted nor found.
/// </summary>
public sealed class TriageListing(NpgsqlDataSource dataSource)
{
    public const int PageSize = 50;

    public static readonly IReadOnlyList<string> Statuses = ["new", "in-review", "needs-follow-up", "verified", "published", "discarded"];
    public static readonly IReadOnlyList<string> Priorities = ["urgent", "high", "normal", "low"];
    public static readonly IReadOnlyList<string> Channels = ["web", "mail"];

    // Exactly the expression of the index submissions_by_priority (migration 0012), so that sorting by priority reads it in order.
    private const string PriorityRank = "array_position(ARRAY['urgent','high','normal','low']::text[], s.priority)";

    private const string RowColumns = """
        s.id, d.name, s.channel, s.received_at, s.status, e.name, s.priority, s.tags, s.file_count, s.ciphertext_bytes,
        s.editor_seen_batches IS NOT NULL AND s.witness_batches > s.editor_seen_batches, s.on_hold
        """;

    public async Task<QueuePage> ListAsync(DeskScope scope, QueueFilter filter, int page, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(filter);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var (where, parameters) = Where(scope, filter);

        // The count reads submissions alone (the filters name desks and assignees by id): over tens of thousands of rows it
        // is the queue's dearest part, and an index-only scan of submissions_by_desk_and_arrival serves it once vacuumed.
        await using var count = new NpgsqlCommand($"SELECT count(*) FROM submissions s {where}", connection);
        count.Parameters.AddRange(parameters.Select(Clone).ToArray());
        var total = (long)(await count.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        var pageCount = (int)Math.Max(1, (total + PageSize - 1) / PageSize);
        page = Math.Clamp(page, 1, pageCount);

        var order = filter.Sort switch
        {
            QueueFilter.Oldest => "s.received_at ASC, s.id",
            QueueFilter.ByPriority => $"{PriorityRank}, s.received_at DESC, s.id",
            _ => "s.received_at DESC, s.id",
        };
        // The page's ids first, then their rows: the rows skipped to reach a far page are read from an index of migration
        // 0012 (its order, with the desk for the scope), never joined or fetched.
        await using var select = new NpgsqlCommand($"""
            SELECT {RowColumns}
            FROM (SELECT s.id FROM submissions s {where} ORDER BY {order} LIMIT {PageSize} OFFSET {(page - 1) * PageSize}) p
            JOIN submissions s ON s.id = p.id JOIN desks d ON d.id = s.desk_id LEFT JOIN editors e ON e.id = s.assignee_id
            ORDER BY {order}
            """, connection);
        select.Parameters.AddRange(parameters.ToArray());
        return new QueuePage(await ReadRowsAsync(select, cancellationToken).ConfigureAwait(false), page, pageCount, total);
    }

    /// <summary>One submission's queue row, or null when it does not exist or is outside <paramref name="scope"/>.</summary>
    public async Task<QueueRow?> FindAsync(DeskScope scope, Guid id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scope);
        await using var command = dataSource.CreateCommand($"""
            SELECT {RowColumns} FROM submissions s JOIN desks d ON d.id = s.desk_id LEFT JOIN editors e ON e.id = s.assignee_id
            WHERE s.id = @id AND {scope.Condition("s.desk_id")}
            """);
        command.Parameters.AddWithValue("id", id);
        scope.AddParameter(command);
        return (await ReadRowsAsync(command, cancellationToken).ConfigureAwait(false)).SingleOrDefault();
    }

    public static string SizeBucket(long bytes) => bytes switch
    {
        < 1_000_000 => "< 1 MB",
        < 10_000_000 => "1-10 MB",
        < 100_000_000 => "10-100 MB",
        < 1_000_000_000 => "100 MB-1 GB",
        _ => "> 1 GB",
    };

    private static (string Where, List<NpgsqlParameter> Parameters) Where(DeskScope scope, QueueFilter filter)
    {
        var conditions = new List<string>();
        var parameters = new List<NpgsqlParameter>();
        if (!scope.IsEverything)
        {
            conditions.Add(scope.Condition("s.desk_id"));
            scope.AddParameter(parameters);
        }
        void Add(string condition, string name, object value)
        {
            conditions.Add(condition);
            parameters.Add(new NpgsqlParameter(name, value));
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

        return (where.ToString(), parameters);
    }

    private static NpgsqlParameter Clone(NpgsqlParameter parameter) => parameter.Clone();

    private static async Task<List<QueueRow>> ReadRowsAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var rows = new List<QueueRow>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(new QueueRow(
                reader.GetGuid(0),
                reader.GetString(1),
                reader.GetString(2),
                reader.GetFieldValue<DateTimeOffset>(3),
                reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetString(5),
                reader.GetString(6),
                reader.GetFieldValue<string[]>(7),
                reader.GetInt32(8),
                SizeBucket(reader.GetInt64(9)),
                reader.GetBoolean(10),
                reader.GetBoolean(11)));
        }

        return rows;
    }
}
