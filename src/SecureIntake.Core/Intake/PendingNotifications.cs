using Npgsql;
using SecureIntake.Core.Storage;

namespace SecureIntake.Core.Intake;

/// <summary>
/// The one owner of notification_pending: per desk, how many new submissions and follow-ups the editors have not
/// yet been told about. Intake counts up in its own transaction; the notification job reads the counts without
/// locking anything, sends, and only then counts down what it told in one short statement. No lock on this table is
/// ever held while the job talks to a mail server, so a witness's commit never waits on SMTP.
/// </summary>
public static class PendingNotifications
{
    // One notification run at a time: two overlapping runs would both take off what they told, eating arrivals.
    // Witness commits never take this lock, so holding it across the SMTP session stalls nobody but a second run.
    private const long RunLock = 0x5345_4355_4e4f_5449; // "SECUNOTI"

    internal static Task CountAsync(NpgsqlConnection connection, Guid deskId, bool isNewSubmission, CancellationToken cancellationToken) =>
        CountAsync(connection, deskId, isNewSubmission ? 1 : 0, isNewSubmission ? 0 : 1, cancellationToken);

    /// <summary>Counts a whole batch's arrivals on one desk in one statement.</summary>
    internal static Task CountAsync(NpgsqlConnection connection, Guid deskId, int newSubmissions, int followUps, CancellationToken cancellationToken) =>
        connection.ExecuteAsync("""
            INSERT INTO notification_pending (desk_id, new_submissions, follow_ups) VALUES (@DeskId, @New, @FollowUps)
            ON CONFLICT (desk_id) DO UPDATE SET new_submissions = notification_pending.new_submissions + @New,
                follow_ups = notification_pending.follow_ups + @FollowUps
            """, new { DeskId = deskId, New = newSubmissions, FollowUps = followUps }, null, cancellationToken);

    /// <summary>
    /// Claims the one notification run on <paramref name="connection"/> (a session lock, no transaction): false when
    /// another run holds it. Released by <see cref="EndRunAsync"/> or when the connection closes.
    /// </summary>
    public static async Task<bool> TryBeginRunAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        await connection.ScalarAsync<bool>("SELECT pg_try_advisory_lock(@Key)", new { Key = RunLock }, null, cancellationToken).ConfigureAwait(false);

    public static Task EndRunAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        connection.ScalarAsync<bool>("SELECT pg_advisory_unlock(@Key)", new { Key = RunLock }, null, cancellationToken);

    /// <summary>Every desk with what it has not told yet (zero for most), read in its own statement: nothing stays locked.</summary>
    public static Task<IReadOnlyList<PendingDesk>> ReadAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        connection.QueryAsync<PendingDesk>("""
            SELECT d.id AS DeskId, d.name AS Desk, coalesce(p.new_submissions, 0) AS NewSubmissions, coalesce(p.follow_ups, 0) AS FollowUps
            FROM desks d LEFT JOIN notification_pending p ON p.desk_id = d.id ORDER BY d.name
            """, null, null, cancellationToken);

    /// <summary>
    /// Takes off what was told, as read by <see cref="ReadAsync"/>, in one short statement: anything counted since
    /// stays for the next window. The CHECK (counts >= 0) refuses a second subtraction of the same counts.
    /// </summary>
    public static async Task ToldAsync(NpgsqlConnection connection, IReadOnlyCollection<PendingDesk> told, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(told);
        var nonZero = told.Where(d => d.NewSubmissions > 0 || d.FollowUps > 0).ToList();
        if (nonZero.Count == 0)
        {
            return;
        }

        await connection.ExecuteAsync("""
            UPDATE notification_pending p SET new_submissions = p.new_submissions - t.new_submissions, follow_ups = p.follow_ups - t.follow_ups
            FROM unnest(@Desks, @New, @FollowUps) AS t (desk_id, new_submissions, follow_ups) WHERE p.desk_id = t.desk_id
            """, new
        {
            Desks = nonZero.Select(d => d.DeskId).ToArray(),
            New = nonZero.Select(d => d.NewSubmissions).ToArray(),
            FollowUps = nonZero.Select(d => d.FollowUps).ToArray(),
        }, null, cancellationToken).ConfigureAwait(false);
    }
}

public sealed record PendingDesk(Guid DeskId, string Desk, int NewSubmissions, int FollowUps)
{
    public bool HasNews => NewSubmissions > 0 || FollowUps > 0;
}
