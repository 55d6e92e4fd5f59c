using Npgsql;
using SecureIntake.Core.Storage;

namespace SecureIntake.Core.Editors;

/// <summary>The language each editor reads the desk in (editors.language, migration 0011); English until they pick another.</summary>
public sealed class EditorLanguage(NpgsqlDataSource dataSource)
{
    public const string Default = "en";

    public static readonly IReadOnlyList<string> Codes = [Default, "ru", "kk"];

    /// <summary>Sets the editor's language; a code the desk has no pages in is refused and changes nothing.</summary>
    public async Task SetAsync(Guid editorId, string code, CancellationToken cancellationToken)
    {
        if (!Codes.Contains(code))
        {
            throw new EditorRefusedException(EditorRefusal.NoSuchLanguage, code);
        }

        await dataSource.ExecuteAsync("UPDATE editors SET language = @Code WHERE id = @Id", new { Id = editorId, Code = code }, cancellationToken).ConfigureAwait(false);
    }
}
