using Npgsql;
using SecureIntake.Core.Storage;

namespace SecureIntake.Core.Intake;

/// <summary>
/// The one owner of notification_pending: per desk, how many new submissions and follow-ups the editors have not
/// yet been told about. Intake counts up in its own transaction; the notification job counts down what it told.
/// </summary>
public static class PendingNotifications
{
    internal static Task CountAsync(NpgsqlConnection connection, Guid deskId, bool isNewSubmission, CancellationToken cancellationToken) =>
        connection.ExecuteAsync("""
            INSERT INTO notification_pending (desk_id, new_submissions, follow_ups) VALUES (@DeskId, @New, @FollowUps)
            ON CONFLICT (desk_id) DO UPDATE SET new_submissions = notification_pending.new_submissions + @New,
                follow_ups = notification_pending.follow_ups + @FollowUps
            """, new { DeskId = deskId, New = isNewSubmission ? 1 : 0, FollowUps = isNewSubmission ? 0 : 1 }, null, cancellationToken);

    /// <summary>Desks with something to tell, locked for the caller's transaction.</summary>
    public static Task<IReadOnlyList<PendingDesk>> LockDueAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken) =>
        connection.QueryAsync<PendingDesk>("""
            SELECT p.desk_id AS DeskId, d.name AS Desk, p.new_submissions AS NewSubmissions, p.follow_ups AS FollowUps
            FROM notification_pending p JOIN desks d ON d.id = p.desk_id
            WHERE p.new_submissions > 0 OR p.follow_ups > 0 ORDER BY d.name FOR UPDATE OF p
            """, null, transaction, cancellationToken);

    /// <summary>Takes off what was told; anything counted meanwhile stays for the next time.</summary>
    public static Task ToldAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, PendingDesk told, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(
            "UPDATE notification_pending SET new_submissions = new_submissions - @NewSubmissions, follow_ups = follow_ups - @FollowUps WHERE desk_id = @DeskId",
            told, transaction, cancellationToken);
}

public sealed record PendingDesk(Guid DeskId, string Desk, int NewSubmissions, int FollowUps);
