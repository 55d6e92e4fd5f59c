using Npgsql;
using SecureIntake.Core.Storage;

namespace SecureIntake.Core.Audit;

/// <summary>
/// What editors did: sign-ins (good and bad), views, downloads, changes, deletions. Never an address, a user
/// agent or any content; entries about a deleted submission stay and name only its id.
/// </summary>
public sealed class AuditLog(NpgsqlDataSource dataSource, TimeProvider clock)
{
    public const int PageSize = 100;

    public async Task WriteAsync(AuditEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        await dataSource.ExecuteAsync("""
            INSERT INTO audit_log (at, editor_id, editor_name, action, submission_id, detail)
            VALUES (@At, @EditorId, @EditorName, @Action, @SubmissionId, @Detail)
            """, new { At = clock.GetUtcNow(), entry.EditorId, entry.EditorName, entry.Action, entry.SubmissionId, entry.Detail }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Newest first, a page at a time.</summary>
    public Task<IReadOnlyList<LoggedEntry>> ListAsync(int page, CancellationToken cancellationToken) =>
        dataSource.QueryAsync<LoggedEntry>("""
            SELECT at AS At, editor_name AS EditorName, action AS Action, submission_id AS SubmissionId, detail AS Detail
            FROM audit_log ORDER BY id DESC LIMIT @Limit OFFSET @Offset
            """, new { Limit = PageSize, Offset = (Math.Max(page, 1) - 1) * PageSize }, cancellationToken);
}

public sealed record AuditEntry(Guid? EditorId, string? EditorName, string Action, Guid? SubmissionId = null, string Detail = "");

public sealed record LoggedEntry(DateTimeOffset At, string? EditorName, string Action, Guid? SubmissionId, string Detail);
