using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Npgsql;
using SecureIntake.Core.Audit;
using SecureIntake.Core.Blobs;
using SecureIntake.Core.Editors;
using SecureIntake.Core.Intake;
using SecureIntake.Core.Recipients;
using SecureIntake.Core.Storage;

namespace SecureIntake.Core.Triage;

/// <param name="BlobId">The blob holding its ciphertext: the item's id until a grant or revoke rewrote it.</param>
public sealed record SubmissionItem(Guid Id, Guid BatchId, string Author, string Kind, long CiphertextBytes, DateTimeOffset AddedAt, int? ReplyNumber, Guid BlobId);

/// <summary>
/// One entry of a submission's history: what happened (<paramref name="Kind"/>, one of the constants here) and to what
/// (<paramref name="Value"/>: a status, a priority, an editor's name, a tag or a reply's number), for the desk to word
/// in each reader's language. Entries written before migration 0013 have no kind, only their English <paramref name="Text"/>.
/// </summary>
public sealed record SubmissionEvent(DateTimeOffset At, string? Editor, string? Kind, string? Value, string? Text)
{
    public const string Status = "status";
    public const string Priority = "priority";
    public const string Assigned = "assigned";
    public const string Unassigned = "unassigned";
    public const string TagAdded = "tag-added";
    public const string TagRemoved = "tag-removed";
    public const string HoldPut = "hold-put";
    public const string HoldLifted = "hold-lifted";
    public const string NoteAdded = "note-added";
    public const string ReplySent = "reply-sent";
}

public sealed record SubmissionDetails(QueueRow Row, IReadOnlyList<SubmissionItem> Items, IReadOnlyList<SubmissionEvent> Events, bool CanReply);

/// <summary>
/// What editors do to submissions: status, assignee, priority, tags, hold, notes, deletion. Every change
/// is recorded in the submission's history and in the audit log with who made it; bulk changes are one
/// transaction, so a selection changes wholly or not at all.
/// Every method takes the asker's <see cref="DeskScope"/>, checked in SQL: a submission outside it answers
/// exactly as one that does not exist (null, or <see cref="SubmissionNotFoundException"/> with the same
/// message). A selection naming any such submission is refused whole, so nothing outside the scope changes
/// and the refusal does not say which id it was, or why.
/// </summary>
public sealed partial class TriageActions(NpgsqlDataSource dataSource, RecipientStore recipients, BlobStore blobs, AuditLog audit, TimeProvider clock)
{
    public const int MaxNoteCharacters = 20_000;

    /// <summary>A submission with its items and history, or null when it does not exist or is outside <paramref name="scope"/>.</summary>
    public async Task<SubmissionDetails?> DetailsAsync(DeskScope scope, Guid id, TriageListing queue, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queue);
        if (await queue.FindAsync(scope, id, cancellationToken).ConfigureAwait(false) is not { } row)
        {
            return null;
        }

        var items = await dataSource.QueryAsync<SubmissionItem>("""
            SELECT id AS Id, batch_id AS BatchId, author AS Author, kind AS Kind, ciphertext_bytes AS CiphertextBytes, added_at AS AddedAt,
                   reply_number AS ReplyNumber, COALESCE(blob_id, id) AS BlobId
            FROM submission_items WHERE submission_id = @Id ORDER BY added_at, batch_id, kind = 'manifest', id
            """, new { Id = id }, cancellationToken).ConfigureAwait(false);
        var events = await dataSource.QueryAsync<SubmissionEvent>("""
            SELECT v.at AS At, e.name AS Editor, v.kind AS Kind, v.value AS Value, v.change AS Text
            FROM submission_events v LEFT JOIN editors e ON e.id = v.editor_id WHERE v.submission_id = @Id ORDER BY v.id
            """, new { Id = id }, cancellationToken).ConfigureAwait(false);
        var canReply = await dataSource.ScalarAsync<bool>("SELECT reply_certificate IS NOT NULL FROM submissions WHERE id = @Id", new { Id = id },
            cancellationToken).ConfigureAwait(false);
        return new SubmissionDetails(row, items, events, canReply);
    }

    /// <summary>
    /// An editor opened the submission: the "witness wrote since" mark goes, and the view is audited. False (and
    /// nothing audited) when it does not exist or is outside <paramref name="scope"/>.
    /// </summary>
    public async Task<bool> MarkSeenAsync(Editor by, DeskScope scope, Guid id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(by);
        ArgumentNullException.ThrowIfNull(scope);
        if (await dataSource.ExecuteAsync($"UPDATE submissions SET editor_seen_batches = witness_batches WHERE id = @Id AND {scope.Condition("desk_id")}",
            scope.Arguments(new { Id = id }), cancellationToken).ConfigureAwait(false) != 1)
        {
            return false;
        }

        await audit.WriteAsync(new AuditEntry(by.Id, by.Name, "viewed", id), cancellationToken).ConfigureAwait(false);
        return true;
    }

    public Task SetStatusAsync(Editor by, DeskScope scope, IReadOnlyCollection<Guid> ids, string status, CancellationToken cancellationToken) =>
        !TriageListing.Statuses.Contains(status)
            ? throw new TriageRefusedException(TriageRefusal.NotAStatus, $"'{status}' is not a status", status)
            : ChangeAsync(by, scope, ids, "SET status = @Value WHERE status <> @Value", new(SubmissionEvent.Status, status), $"status: {status}", null,
                cancellationToken);

    public Task SetPriorityAsync(Editor by, DeskScope scope, IReadOnlyCollection<Guid> ids, string priority, CancellationToken cancellationToken) =>
        !TriageListing.Priorities.Contains(priority)
            ? throw new TriageRefusedException(TriageRefusal.NotAPriority, $"'{priority}' is not a priority", priority)
            : ChangeAsync(by, scope, ids, "SET priority = @Value WHERE priority <> @Value", new(SubmissionEvent.Priority, priority), $"priority: {priority}", null,
                cancellationToken);

    /// <summary>
    /// Assigns to an editor by name, or to nobody when <paramref name="editorName"/> is empty. An editor who is not a
    /// member of a submission's desk cannot be given it (admins belong to every desk): one such submission in the
    /// selection refuses the lot, and nothing changes.
    /// </summary>
    public async Task AssignAsync(Editor by, DeskScope scope, IReadOnlyCollection<Guid> ids, string? editorName, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(editorName))
        {
            await ChangeAsync(by, scope, ids, "SET assignee_id = NULL WHERE assignee_id IS NOT NULL", new(SubmissionEvent.Unassigned, null), "unassigned", null,
                cancellationToken).ConfigureAwait(false);
            return;
        }

        var name = EditorStore.NormalizeName(editorName);
        await ChangeAsync(by, scope, ids, """
            SET assignee_id = (SELECT id FROM editors WHERE name = @Value) WHERE assignee_id IS DISTINCT FROM (SELECT id FROM editors WHERE name = @Value)
            """, new(SubmissionEvent.Assigned, name), $"assigned to {name}", (connection, transaction, wanted) => RequireAssignableAsync(connection, transaction, name, wanted, cancellationToken),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The names of the active editors a submission can be given to: members of its desk, and admins. Empty when it
    /// does not exist or is outside <paramref name="scope"/>.
    /// </summary>
    public Task<IReadOnlyList<string>> AssignableAsync(DeskScope scope, Guid id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scope);
        return dataSource.QueryAsync<string>($"""
            SELECT e.name FROM editors e JOIN submissions s ON s.id = @Id AND {scope.Condition("s.desk_id")}
            WHERE NOT e.disabled AND (e.role = 'admin' OR EXISTS (SELECT 1 FROM desk_members m WHERE m.editor_id = e.id AND m.desk_id = s.desk_id))
            ORDER BY e.name
            """, scope.Arguments(new { Id = id }), cancellationToken);
    }

    public Task AddTagAsync(Editor by, DeskScope scope, IReadOnlyCollection<Guid> ids, string tag, CancellationToken cancellationToken)
    {
        tag = ValidTag(tag);
        return ChangeAsync(by, scope, ids, "SET tags = array_append(tags, @Value) WHERE NOT tags @> ARRAY[@Value]::text[]", new(SubmissionEvent.TagAdded, tag), $"tag added: {tag}", null,
            cancellationToken);
    }

    public Task RemoveTagAsync(Editor by, DeskScope scope, IReadOnlyCollection<Guid> ids, string tag, CancellationToken cancellationToken)
    {
        tag = ValidTag(tag);
        return ChangeAsync(by, scope, ids, "SET tags = array_remove(tags, @Value) WHERE tags @> ARRAY[@Value]::text[]", new(SubmissionEvent.TagRemoved, tag), $"tag removed: {tag}", null,
            cancellationToken);
    }

    /// <summary>A submission on hold is kept past its desk's retention until the hold is lifted.</summary>
    public Task SetHoldAsync(Editor by, DeskScope scope, Guid id, bool hold, CancellationToken cancellationToken) =>
        ChangeAsync(by, scope, [id], "SET on_hold = @Value::boolean WHERE on_hold <> @Value::boolean",
            new(hold ? SubmissionEvent.HoldPut : SubmissionEvent.HoldLifted, hold ? "true" : "false"), hold ? "put on hold" : "hold lifted", null, cancellationToken);

    /// <summary>A note for the other editors, encrypted to the desk's recipients like everything else.</summary>
    public async Task AddNoteAsync(Editor by, DeskScope scope, Guid id, string text, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(by);
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(text);
        if (string.IsNullOrWhiteSpace(text) || text.Length > MaxNoteCharacters)
        {
            throw new TriageRefusedException(TriageRefusal.NoteLength, $"a note has some text and at most {MaxNoteCharacters} characters", MaxNoteCharacters);
        }

        var desk = await dataSource.ScalarAsync<string>($"SELECT d.name FROM submissions s JOIN desks d ON d.id = s.desk_id WHERE s.id = @Id AND {scope.Condition("s.desk_id")}",
            scope.Arguments(new { Id = id }), cancellationToken).ConfigureAwait(false) ?? throw new SubmissionNotFoundException();
        var (_, keys) = await recipients.UsableKeysAsync(desk, cancellationToken).ConfigureAwait(false);
        if (keys.Count == 0)
        {
            throw new IntakeRefusedException(IntakeRefusal.DeskCannotEncrypt, $"desk '{desk}' has no usable recipient key");
        }

        SealedBlob blob;
        using (var plaintext = new MemoryStream(Encoding.UTF8.GetBytes(text)))
        {
            blob = await blobs.WriteEncryptedAsync(keys, plaintext, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            var note = new { Item = blob.Id, Id = id, Bytes = blob.CiphertextBytes, Minute = SubmissionWriter.ToMinute(clock.GetUtcNow()) };
            await connection.ExecuteAsync("""
                INSERT INTO submission_items (id, submission_id, batch_id, author, kind, ciphertext_bytes, added_at)
                VALUES (@Item, @Id, @Item, 'editor', 'note', @Bytes, @Minute)
                """, note, transaction, cancellationToken).ConfigureAwait(false);
            await connection.ExecuteAsync("UPDATE submissions SET ciphertext_bytes = ciphertext_bytes + @Bytes WHERE id = @Id", note, transaction, cancellationToken)
                .ConfigureAwait(false);
            await RecordAsync(connection, transaction, by, [id], new(SubmissionEvent.NoteAdded, null), cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            blobs.Delete([blob.Id]);
            throw;
        }

        await audit.WriteAsync(new AuditEntry(by.Id, by.Name, "note added", id), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Puts a sent reply in the submission's history and the audit log (ThreadReplies stored it).</summary>
    public async Task RecordReplyAsync(Editor by, DeskScope scope, Guid id, int number, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(by);
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false))
        {
            await RequireInScopeAsync(connection, transaction, scope, [id], cancellationToken).ConfigureAwait(false);
            await RecordAsync(connection, transaction, by, [id], new(SubmissionEvent.ReplySent, number.ToString(CultureInfo.InvariantCulture)), cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        await audit.WriteAsync(new AuditEntry(by.Id, by.Name, "replied", id, $"reply #{number}"), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Deletes the rows, then the blobs; the audit entry names only the id. <paramref name="by"/> is null for the
    /// service itself (retention), which deletes in <see cref="DeskScope.Everything"/>.
    /// </summary>
    public async Task DeleteAsync(Editor? by, DeskScope scope, Guid id, string reason, CancellationToken cancellationToken)
    {
        IReadOnlyList<Guid> itemIds;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false))
        {
            await RequireInScopeAsync(connection, transaction, scope, [id], cancellationToken).ConfigureAwait(false);
            itemIds = await connection.QueryAsync<Guid>("DELETE FROM submission_items WHERE submission_id = @Id RETURNING COALESCE(blob_id, id)", new { Id = id }, transaction,
                cancellationToken).ConfigureAwait(false);
            await connection.ExecuteAsync("DELETE FROM submissions WHERE id = @Id", new { Id = id }, transaction, cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        // Once no row names them, a blob that cannot be deleted now is the orphan sweep's to remove.
        try
        {
            blobs.Delete(itemIds);
        }
        catch (AggregateException)
        {
        }

        await audit.WriteAsync(new AuditEntry(by?.Id, by?.Name, "deleted", id, reason), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Applies <paramref name="update"/> ("SET ... WHERE the value differs") to every submission named, in one
    /// transaction; only those it changed get a history entry and an audit entry.
    /// </summary>
    private async Task ChangeAsync(Editor by, DeskScope scope, IReadOnlyCollection<Guid> ids, string update, Change change, string audited,
        Func<NpgsqlConnection, NpgsqlTransaction, Guid[], Task>? check, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(by);
        ArgumentNullException.ThrowIfNull(ids);
        var wanted = ids.Distinct().ToArray();
        IReadOnlyList<Guid> changed;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false))
        {
            await RequireInScopeAsync(connection, transaction, scope, wanted, cancellationToken).ConfigureAwait(false);
            if (check is not null)
            {
                await check(connection, transaction, wanted).ConfigureAwait(false);
            }

            var updated = (await connection.QueryAsync<Guid>($"UPDATE submissions {update} AND id = ANY(@Ids) RETURNING id", new { Ids = wanted, change.Value },
                transaction, cancellationToken).ConfigureAwait(false)).ToHashSet();
            changed = [.. wanted.Where(updated.Contains)];
            await RecordAsync(connection, transaction, by, changed, change, cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        foreach (var id in changed)
        {
            await audit.WriteAsync(new AuditEntry(by.Id, by.Name, "changed", id, audited), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Locks every submission named, or refuses the lot with <see cref="SubmissionNotFoundException"/> when any does
    /// not exist or is outside <paramref name="scope"/>: the transaction then changes nothing.
    /// </summary>
    private static async Task RequireInScopeAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, DeskScope scope, IReadOnlyCollection<Guid> ids,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scope);
        var wanted = ids.Distinct().ToArray();
        if (wanted.Length == 0)
        {
            return;
        }

        var found = await connection.ScalarAsync<long>(
            $"SELECT count(*) FROM (SELECT id FROM submissions WHERE id = ANY(@Ids) AND {scope.Condition("desk_id")} FOR UPDATE) found",
            scope.Arguments(new { Ids = wanted }), transaction, cancellationToken).ConfigureAwait(false);
        if (found != wanted.Length)
        {
            throw new SubmissionNotFoundException();
        }
    }

    /// <summary>
    /// Refuses unless <paramref name="name"/> is an active editor who may be given every submission in <paramref name="ids"/>
    /// (already locked): an admin, or a member of each one's desk. The refusal names the first desk they are not on.
    /// </summary>
    private static async Task RequireAssignableAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string name, Guid[] ids,
        CancellationToken cancellationToken)
    {
        // FOR SHARE: the editor cannot be disabled or lose the admin role between this check and the commit.
        var assignee = await connection.QuerySingleOrDefaultAsync<Assignee>("SELECT id AS Id, role = 'admin' AS IsAdmin FROM editors WHERE name = @Name AND NOT disabled FOR SHARE",
            new { Name = name }, transaction, cancellationToken).ConfigureAwait(false)
            ?? throw new TriageRefusedException(TriageRefusal.NoSuchEditor, $"there is no active editor named '{name}'", name);
        if (assignee.IsAdmin)
        {
            return;
        }

        if (await connection.ScalarAsync<string>("""
            SELECT d.name FROM submissions s JOIN desks d ON d.id = s.desk_id
            WHERE s.id = ANY(@Ids) AND NOT EXISTS (SELECT 1 FROM desk_members m WHERE m.editor_id = @Editor AND m.desk_id = s.desk_id)
            ORDER BY d.name LIMIT 1
            """, new { Ids = ids, Editor = assignee.Id }, transaction, cancellationToken).ConfigureAwait(false) is { } desk)
        {
            throw new TriageRefusedException(TriageRefusal.NotDeskMember, $"'{name}' is not a member of desk '{desk}', so cannot be assigned its submissions; nothing was changed",
                name, desk);
        }
    }

    /// <summary>One history entry per submission in <paramref name="ids"/>, all at the same moment.</summary>
    private async Task RecordAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Editor by, IReadOnlyList<Guid> ids, Change change,
        CancellationToken cancellationToken) =>
        await connection.ExecuteAsync("""
            INSERT INTO submission_events (submission_id, editor_id, at, kind, value)
            SELECT submission_id, @Editor, @At, @Kind, @Value FROM unnest(@Ids) WITH ORDINALITY AS named (submission_id, n) ORDER BY n
            """, new { Ids = ids.ToArray(), Editor = by.Id, At = clock.GetUtcNow(), change.Kind, change.Value }, transaction, cancellationToken).ConfigureAwait(false);

    private static string ValidTag(string tag)
    {
        tag = (tag ?? "").Trim().ToLowerInvariant();
        return TagPattern().IsMatch(tag) ? tag : throw new TriageRefusedException(TriageRefusal.BadTag, "a tag is 1 to 32 letters, digits, spaces, '-' or '_'");
    }

    private sealed record Assignee(Guid Id, bool IsAdmin);

    /// <summary>A history entry's kind and value (see <see cref="SubmissionEvent"/>); also the value the change's SQL sets.</summary>
    private sealed record Change(string Kind, string? Value);

    [GeneratedRegex(@"^[\p{L}\p{N}][\p{L}\p{N} _-]{0,31}$")]
    private static partial Regex TagPattern();
}

/// <summary>Why a triage action or a reply was refused; the desk words each in the editor's language.</summary>
public enum TriageRefusal
{
    /// <summary>{0}: the value given.</summary>
    NotAStatus,

    /// <summary>{0}: the value given.</summary>
    NotAPriority,

    /// <summary>{0}: the name given.</summary>
    NoSuchEditor,

    /// <summary>{0}: the editor's name; {1}: the first desk of the selection they are not a member of.</summary>
    NotDeskMember,

    BadTag,

    /// <summary>{0}: the most characters a note may have.</summary>
    NoteLength,

    ReplyEmpty,

    /// <summary>{0}: the most characters a reply may have.</summary>
    ReplyTooLong,

    ReplyWithoutCodename,

    UnknownAction,

    NoSuchSubmission,
}

/// <summary>
/// A refused triage action: nothing changed. <see cref="Exception.Message"/> is English, for logs and the API;
/// <see cref="Refusal"/> and <see cref="Arguments"/> let the desk say it in the editor's language.
/// </summary>
public class TriageRefusedException(TriageRefusal refusal, string message, params object[] arguments) : Exception(message)
{
    public TriageRefusal Refusal { get; } = refusal;

    public IReadOnlyList<object> Arguments { get; } = arguments;
}

/// <summary>
/// A submission that does not exist, or that is outside the asker's desks: the two are never told apart (the
/// desk answers 404 for both).
/// </summary>
public sealed class SubmissionNotFoundException() : TriageRefusedException(TriageRefusal.NoSuchSubmission, "there is no such submission");
