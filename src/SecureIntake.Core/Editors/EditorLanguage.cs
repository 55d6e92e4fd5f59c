using Npgsql;

namespace SecureIntake.Core.Editors;

/// <summary>The language each editor reads the desk in (editors.language, migration 0011); English until they pick another.</summary>
public sealed class EditorLanguage(NpgsqlDataSource dataSource)
{
    public const string Default = "en";

    public static readonly IReadOnlyList<string> Codes = [Default, "ru", "kk"];

    /// <summary>The editor's language, or English for an editor that no longer exists.</summary>
    public async Task<string> GetAsync(Guid editorId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT language FROM editors WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = editorId });
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string ?? Default;
    }

    /// <summary>Sets the editor's language; a code the desk has no pages in is refused and changes nothing.</summary>
    public async Task SetAsync(Guid editorId, string code, CancellationToken cancellationToken)
    {
        if (!Codes.Contains(code))
        {
            throw new EditorRefusedException($"the desk has no pages in '{code}'");
        }

        await using var command = dataSource.CreateCommand("UPDATE editors SET language = $2 WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = editorId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = code });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
