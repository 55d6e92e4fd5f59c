using Npgsql;
using SecureIntake.Core.Audit;
using SecureIntake.Core.Recipients;

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

        await using var command = dataSource.CreateCommand("SELECT desk_id FROM desk_members WHERE editor_id = @editor");
        command.Parameters.AddWithValue("editor", editor.Id);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var desks = new List<Guid>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            desks.Add(reader.GetGuid(0));
        }

        return DeskScope.Of(desks);
    }

    /// <summary>The names of the desks an editor is a member of, in order.</summary>
    public async Task<IReadOnlyList<string>> DesksOfAsync(string editorName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(editorName);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var editor = await EditorIdAsync(connection, null, EditorStore.NormalizeName(editorName), cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("SELECT d.name FROM desk_members m JOIN desks d ON d.id = m.desk_id WHERE m.editor_id = @editor ORDER BY d.name",
            connection);
        command.Parameters.AddWithValue("editor", editor);
        return await ReadNamesAsync(command, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every editor's desks by editor name (editors of no desk are absent).</summary>
    public async Task<IReadOnlyDictionary<string, IReadOnlyList<string>>> AllAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT e.name, d.name FROM desk_members m JOIN editors e ON e.id = m.editor_id JOIN desks d ON d.id = m.desk_id ORDER BY e.name, d.name
            """);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var all = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var editor = reader.GetString(0);
            if (!all.TryGetValue(editor, out var desks))
            {
                all[editor] = desks = [];
            }

            desks.Add(reader.GetString(1));
        }

        return all.ToDictionary(p => p.Key, p => (IReadOnlyList<string>)p.Value, StringComparer.Ordinal);
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
            INSERT INTO desk_members (editor_id, desk_id) SELECT @editor, unnest(@desks) ON CONFLICT DO NOTHING RETURNING desk_id
            """, "desk member added", cancellationToken);

    /// <summary>Ends the editor's membership of each desk; all or nothing. Returns the desks they were a member of and left.</summary>
    public Task<IReadOnlyList<string>> LeaveAsync(Editor? by, string editorName, IReadOnlyCollection<string> desks, CancellationToken cancellationToken) =>
        ChangeAsync(by, editorName, desks, "DELETE FROM desk_members WHERE editor_id = @editor AND desk_id = ANY(@desks) RETURNING desk_id",
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
            await using (var command = new NpgsqlCommand(sql, connection, transaction))
            {
                command.Parameters.AddWithValue("editor", editor);
                command.Parameters.AddWithValue("desks", ids.Keys.ToArray());
                await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    changed.Add(ids[reader.GetGuid(0)]);
                }
            }

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
        await using var command = new NpgsqlCommand("SELECT id FROM editors WHERE name = @name FOR SHARE", connection, transaction);
        command.Parameters.AddWithValue("name", name);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as Guid?
            ?? throw new EditorRefusedException($"there is no editor named '{name}'");
    }

    /// <summary>Desk ids by id, for every name given; the first unknown name is refused.</summary>
    private static async Task<Dictionary<Guid, string>> DeskIdsAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, IReadOnlyCollection<string> desks,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(desks);
        var names = desks.Select(d => (d ?? "").Trim()).Distinct(StringComparer.Ordinal).ToArray();
        await using var command = new NpgsqlCommand("SELECT id, name FROM desks WHERE name = ANY(@names) FOR SHARE", connection, transaction);
        command.Parameters.AddWithValue("names", names);
        var found = new Dictionary<Guid, string>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                found[reader.GetGuid(0)] = reader.GetString(1);
            }
        }

        return names.FirstOrDefault(n => !found.ContainsValue(n)) is { } unknown ? throw new UnknownDeskException(unknown) : found;
    }

    private static async Task<IReadOnlyList<string>> ReadNamesAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var names = new List<string>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }
}
