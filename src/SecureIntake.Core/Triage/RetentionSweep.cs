using Microsoft.Extensions.Logging;
using Npgsql;

namespace SecureIntake.Core.Triage;

/// <summary>
/// The recurring job that deletes submissions kept longer than their desk's retention (counted from the
/// witness's last message, so a live thread is not cut off), unless an editor put them on hold. The desk
/// warns <see cref="WarningPeriod"/> ahead. Deleting removes rows and blobs and leaves an audit entry.
/// </summary>
public sealed partial class RetentionSweep(NpgsqlDataSource dataSource, TriageActions actions, TimeProvider clock, ILogger<RetentionSweep> logger)
{
    public static readonly TimeSpan WarningPeriod = TimeSpan.FromDays(3);

    private const string Due = """
        SELECT s.id, d.retention_days FROM submissions s JOIN desks d ON d.id = s.desk_id
        WHERE NOT s.on_hold AND s.witness_active_at < @at - make_interval(days => d.retention_days)
        """;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var due = await DueAsync(clock.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        foreach (var (id, days) in due)
        {
            await actions.DeleteAsync(null, id, $"retention: no message from the witness for {days} days", cancellationToken).ConfigureAwait(false);
        }

        if (due.Count > 0)
        {
            LogDeleted(logger, due.Count);
        }

        return due.Count;
    }

    /// <summary>How many submissions the sweep will delete within the warning period unless put on hold.</summary>
    public async Task<long> DueSoonAsync(CancellationToken cancellationToken)
    {
        // Counted in SQL: the desk's home page asks on every load.
        await using var command = dataSource.CreateCommand($"SELECT count(*) FROM ({Due}) due");
        command.Parameters.AddWithValue("at", clock.GetUtcNow() + WarningPeriod);
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    private async Task<List<(Guid Id, int Days)>> DueAsync(DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(Due);
        command.Parameters.AddWithValue("at", at);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var due = new List<(Guid, int)>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            due.Add((reader.GetGuid(0), reader.GetInt32(1)));
        }

        return due;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention deleted {Count} submissions")]
    private static partial void LogDeleted(ILogger logger, int count);
}
