using Microsoft.Extensions.Logging;
using Npgsql;
using SecureIntake.Core.Editors;
using SecureIntake.Core.Storage;

namespace SecureIntake.Core.Triage;

/// <summary>
/// The recurring job that deletes submissions kept longer than their desk's retention (counted from the
/// witness's last message, so a live thread is not cut off), unless an editor put them on hold. The desk
/// warns <see cref="WarningPeriod"/> ahead. Deleting removes rows and blobs and leaves an audit entry.
/// </summary>
public sealed partial class RetentionSweep(NpgsqlDataSource dataSource, TriageActions actions, TimeProvider clock, ILogger<RetentionSweep> logger)
{
    public static readonly TimeSpan WarningPeriod = TimeSpan.FromDays(3);

    // Submissions past their own desk's retention: what the hourly sweep deletes.
    private const string Due = """
        SELECT s.id AS Id, d.retention_days AS Days, s.desk_id AS DeskId FROM submissions s JOIN desks d ON d.id = s.desk_id
        WHERE NOT s.on_hold AND s.witness_active_at < @At - make_interval(days => d.retention_days)
        """;

    // The count the desk asks on every page load: counted inside a lateral subquery per desk, which the planner cannot
    // flatten into a join over every submission, so each desk reads the index of migration 0017 only up to its bound.
    private static string DueCount(string deskCondition) => $"""
        SELECT coalesce(sum(due.n), 0)::bigint FROM desks d CROSS JOIN LATERAL (
            SELECT count(*) AS n FROM submissions s
            WHERE s.desk_id = d.id AND NOT s.on_hold AND s.witness_active_at < @At - make_interval(days => d.retention_days)) due
        WHERE {deskCondition}
        """;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var due = await dataSource.QueryAsync<DueSubmission>(Due, new { At = clock.GetUtcNow() }, cancellationToken).ConfigureAwait(false);
        var deleted = 0;
        foreach (var (id, days, _) in due)
        {
            try
            {
                await actions.DeleteAsync(null, DeskScope.Everything, id, $"retention: no message from the witness for {days} days", cancellationToken)
                    .ConfigureAwait(false);
                deleted++;
            }
            catch (SubmissionNotFoundException)
            {
                // An editor deleted it meanwhile: it is gone either way.
            }
        }

        if (deleted > 0)
        {
            LogDeleted(logger, deleted);
        }

        return deleted;
    }

    /// <summary>How many submissions in <paramref name="scope"/> the sweep will delete within the warning period unless put on hold.</summary>
    public async Task<long> DueSoonAsync(DeskScope scope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scope);
        // Counted in SQL: the desk's home page asks on every load.
        return await dataSource.ScalarAsync<long>(DueCount(scope.Condition("d.id")),
            scope.Arguments(new { At = clock.GetUtcNow() + WarningPeriod }), cancellationToken).ConfigureAwait(false);
    }

    private sealed record DueSubmission(Guid Id, int Days, Guid DeskId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention deleted {Count} submissions")]
    private static partial void LogDeleted(ILogger logger, int count);
}
