using Npgsql;

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
        await using var command = dataSource.CreateCommand("""
            INSERT INTO audit_log (at, editor_id, editor_name, action, submission_id, detail)
            VALUES (@at, @editor, @name, @action, @submission, @detail)
            """);
        command.Parameters.AddWithValue("at", clock.GetUtcNow());
        command.Parameters.AddWithValue("editor", (object?)entry.EditorId ?? DBNull.Value);
        command.Parameters.AddWithValue("name", (object?)entry.EditorName ?? DBNull.Value);
        command.Parameters.AddWithValue("action", entry.Action);
        command.Parameters.AddWithValue("submission", (object?)entry.SubmissionId ?? DBNull.Value);
        command.Parameters.AddWithValue("detail", entry.Detail);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Newest first, a page at a time.</summary>
    public async Task<IReadOnlyList<LoggedEntry>> ListAsync(int page, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT at, editor_name, action, submission_id, detail FROM audit_log ORDER BY id DESC LIMIT @limit OFFSET @offset
            """);
        command.Parameters.AddWithValue("limit", PageSize);
        command.Parameters.AddWithValue("offset", (Math.Max(page, 1) - 1) * PageSize);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var entries = new List<LoggedEntry>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            entries.Add(new LoggedEntry(
                reader.GetFieldValue<DateTimeOffset>(0),
                reader.IsDBNull(1) ? null : reader.GetString(1),
                reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetGuid(3),
                reader.GetString(4)));
        }

        return entries;
    }
}

public sealed record AuditEntry(Guid? EditorId, string? EditorName, string Action, Guid? SubmissionId = null, string Detail = "");

public sealed record LoggedEntry(DateTimeOffset At, string? EditorName, string Action, Guid? SubmissionId, string Detail);
