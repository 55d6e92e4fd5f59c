using Npgsql;
using SecureIntake.Core.Audit;
using SecureIntake.Core.Recipients;
using SecureIntake.Core.Storage;

namespace SecureIntake.Core.Editors;

/// <summary>
/// Which desks each editor belongs to (the one owner of the desk_members table), and the <see cref="DeskScope"/>
/// that follows from it. Admins belong to every desk implicitly; rows stored for them change nothing. Every change
/// is audited with who made it (null: an admin on the server's command line).
/// </summary>
public sealed class DeskMembership(NpgsqlDataSource dataSource, AuditLog audit)
{
    /// <summary>What <paramref name="editor"/> may see: every desk for an admin, their own desks otherwise (none: nothing).</summary>
    public async Task<DeskScope> ScopeOfAsync(Editor editor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(editor);
        if (editor.Role == EditorRole.Admin)
        {
            return DeskScope.Everything;
        }

        return DeskScope.Of(await dataSource.QueryAsync<Guid>("SELECT desk_id FROM desk_members WHERE editor_id = @Id", new { editor.Id }, cancellationToken)
            .ConfigureAwait(false));
    }

    /// <summary>The names of the desks an editor is a member of, in order.</summary>
    public async Task<IReadOnlyList<string>> DesksOfAsync(string editorName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(editorName);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var editor = await EditorIdAsync(connection, null, EditorStore.NormalizeName(editorName), cancellationToken).ConfigureAwait(false);
        return await connection.QueryAsync<string>("SELECT d.name FROM desk_members m JOIN desks d ON d.id = m.desk_id WHERE m.editor_id = @Editor ORDER BY d.name",
            new { Editor = editor }, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The active editors who share a desk in <paramref name="scope"/> (admins share every desk), by name: whom the queue
    /// offers to assign or filter by. Editors of other desks only would be refused as assignees, and their names are not
    /// this editor's to know.
    /// </summary>
    public Task<IReadOnlyList<string>> ColleaguesAsync(DeskScope scope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scope);
        return dataSource.QueryAsync<string>($"""
            SELECT e.name FROM editors e
            WHERE NOT e.disabled AND (e.role = 'admin' OR EXISTS (SELECT 1 FROM desk_members m WHERE m.editor_id = e.id AND {scope.Condition("m.desk_id")}))
            ORDER BY e.name
            """, scope.Arguments(), cancellationToken);
    }

    /// <summary>Every editor's desks by editor name (editors of no desk are absent).</summary>
    public async Task<IReadOnlyDictionary<string, IReadOnlyList<string>>> AllAsync(CancellationToken cancellationToken)
    {
        var members = await dataSource.QueryAsync<Member>("""
            SELECT e.name AS Editor, d.name AS Desk FROM desk_members m JOIN editors e ON e.id = m.editor_id JOIN desks d ON d.id = m.desk_id ORDER BY e.name, d.name
            """, null, cancellationToken).ConfigureAwait(false);
        return members.GroupBy(m => m.Editor, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<string>)[.. g.Select(m => m.Desk)], StringComparer.Ordinal);
    }

    /// <summary>Refuses with <see cref="UnknownDeskException"/> when any of <paramref name="desks"/> does not exist.</summary>
    public async Task CheckDesksExistAsync(IReadOnlyCollection<string> desks, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await DeskIdsAsync(connection, null, desks, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Makes the editor a member of each desk; all or nothing (an unknown desk or editor changes nothing). Returns
    /// the desks they newly joined; each is audited.
    /// </summary>
    public Task<IReadOnlyList<string>> JoinAsync(Editor? by, string editorName, IReadOnlyCollection<string> desks, CancellationToken cancellationToken) =>
        ChangeAsync(by, editorName, desks, """
            INSERT INTO desk_members (editor_id, desk_id) SELECT @Editor, unnest(@Desks) ON CONFLICT DO NOTHING RETURNING desk_id
            """, "desk member added", cancellationToken);

    /// <summary>Ends the editor's membership of each desk; all or nothing. Returns the desks they were a member of and left.</summary>
    public Task<IReadOnlyList<string>> LeaveAsync(Editor? by, string editorName, IReadOnlyCollection<string> desks, CancellationToken cancellationToken) =>
        ChangeAsync(by, editorName, desks, "DELETE FROM desk_members WHERE editor_id = @Editor AND desk_id = ANY(@Desks) RETURNING desk_id",
            "desk member removed", cancellationToken);

    private async Task<IReadOnlyList<string>> ChangeAsync(Editor? by, string editorName, IReadOnlyCollection<string> desks, string sql, string action,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(editorName);
        ArgumentNullException.ThrowIfNull(desks);
        var name = EditorStore.NormalizeName(editorName);
        var changed = new List<string>();
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false))
        {
            var editor = await EditorIdAsync(connection, transaction, name, cancellationToken).ConfigureAwait(false);
            var ids = await DeskIdsAsync(connection, transaction, desks, cancellationToken).ConfigureAwait(false);
            var rows = await connection.QueryAsync<Guid>(sql, new { Editor = editor, Desks = ids.Keys.ToArray() }, transaction, cancellationToken)
                .ConfigureAwait(false);
            changed.AddRange(rows.Select(id => ids[id]));

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        changed.Sort(StringComparer.Ordinal);
        foreach (var desk in changed)
        {
            await audit.WriteAsync(new AuditEntry(by?.Id, by?.Name, action, Detail: $"{name} on desk '{desk}'"), cancellationToken).ConfigureAwait(false);
        }

        return changed;
    }

    private static async Task<Guid> EditorIdAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string name, CancellationToken cancellationToken)
    {
        // FOR SHARE: the editor cannot be deleted between this check and the membership change.
        return await connection.ScalarAsync<Guid?>("SELECT id FROM editors WHERE name = @Name FOR SHARE", new { Name = name }, transaction, cancellationToken)
            .ConfigureAwait(false)
            ?? throw new EditorRefusedException(EditorRefusal.NoSuchEditor, name);
    }

    /// <summary>Desk ids by id, for every name given; the first unknown name is refused.</summary>
    private static async Task<Dictionary<Guid, string>> DeskIdsAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, IReadOnlyCollection<string> desks,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(desks);
        var names = desks.Select(d => (d ?? "").Trim()).Distinct(StringComparer.Ordinal).ToArray();
        var found = (await connection.QueryAsync<Desk>("SELECT id AS Id, name AS Name FROM desks WHERE name = ANY(@Names) FOR SHARE", new { Names = names }, transaction,
            cancellationToken).ConfigureAwait(false)).ToDictionary(d => d.Id, d => d.Name);
        return names.FirstOrDefault(n => !found.ContainsValue(n)) is { } unknown ? throw new UnknownDeskException(unknown) : found;
    }

    private sealed record Member(string Editor, string Desk);

    private sealed record Desk(Guid Id, string Name);
}
