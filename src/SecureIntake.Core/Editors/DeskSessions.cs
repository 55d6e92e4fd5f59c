using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Npgsql;

namespace SecureIntake.Core.Editors;

public enum DeskSessionKind
{
    /// <summary>The web desk: a cookie, with idle and absolute time-outs.</summary>
    Browser,

    /// <summary>The desk tool on an editor's machine: a bearer token that lives one hour.</summary>
    Tool,
}

/// <summary>
/// Signed-in editors. The token is random and only its SHA-256 is stored, so the database alone signs no one
/// in; sessions of a disabled editor stop working at once, because every lookup checks the account.
/// </summary>
public sealed class DeskSessions(NpgsqlDataSource dataSource, TimeProvider clock, IOptions<EditorOptions>? options = null)
{
    public static readonly TimeSpan BrowserIdleTimeout = TimeSpan.FromMinutes(30);
    public static readonly TimeSpan BrowserLifetime = TimeSpan.FromHours(12);
    public static readonly TimeSpan ToolLifetime = TimeSpan.FromHours(1);

    private readonly TimeSpan _idleTimeout = options?.Value.SessionIdleTimeout ?? BrowserIdleTimeout;
    private readonly TimeSpan _lifetime = options?.Value.SessionLifetime ?? BrowserLifetime;

    // last_seen_at is written at most this often, not on every request; often enough that use keeps a short idle time-out alive.
    private TimeSpan TouchInterval => TimeSpan.FromTicks(Math.Min(TimeSpan.FromMinutes(1).Ticks, _idleTimeout.Ticks / 4));

    public async Task<(string Token, DateTimeOffset ExpiresAt)> StartAsync(Editor editor, DeskSessionKind kind, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(editor);
        var token = Base64Url(RandomNumberGenerator.GetBytes(32));
        var now = clock.GetUtcNow();
        await using var command = dataSource.CreateCommand("""
            INSERT INTO desk_sessions (token_hash, editor_id, kind, created_at, last_seen_at) VALUES (@hash, @editor, @kind, @now, @now)
            """);
        command.Parameters.AddWithValue("hash", Hash(token));
        command.Parameters.AddWithValue("editor", editor.Id);
        command.Parameters.AddWithValue("kind", KindText(kind));
        command.Parameters.AddWithValue("now", now);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return (token, now + (kind == DeskSessionKind.Tool ? ToolLifetime : _lifetime));
    }

    /// <summary>The editor a token belongs to, or null when it is unknown, timed out, or the editor is disabled.</summary>
    public async Task<Editor?> FindAsync(string? token, DeskSessionKind kind, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 64)
        {
            return null;
        }

        var now = clock.GetUtcNow();
        await using var command = dataSource.CreateCommand("""
            SELECT e.id, e.name, e.role, s.created_at, s.last_seen_at
            FROM desk_sessions s JOIN editors e ON e.id = s.editor_id
            WHERE s.token_hash = @hash AND s.kind = @kind AND NOT e.disabled
            """);
        command.Parameters.AddWithValue("hash", Hash(token));
        command.Parameters.AddWithValue("kind", KindText(kind));
        Editor editor;
        DateTimeOffset created, lastSeen;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return null;
            }

            editor = new Editor(reader.GetGuid(0), reader.GetString(1), EditorStore.ParseRole(reader.GetString(2)), false);
            created = reader.GetFieldValue<DateTimeOffset>(3);
            lastSeen = reader.GetFieldValue<DateTimeOffset>(4);
        }

        var expired = kind == DeskSessionKind.Tool
            ? now - created > ToolLifetime
            : now - created > _lifetime || now - lastSeen > _idleTimeout;
        if (expired)
        {
            await EndAsync(token, cancellationToken).ConfigureAwait(false);
            return null;
        }

        if (now - lastSeen > TouchInterval)
        {
            await using var touch = dataSource.CreateCommand("UPDATE desk_sessions SET last_seen_at = @now WHERE token_hash = @hash");
            touch.Parameters.AddWithValue("hash", Hash(token));
            touch.Parameters.AddWithValue("now", now);
            await touch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        return editor;
    }

    public async Task EndAsync(string token, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM desk_sessions WHERE token_hash = @hash");
        command.Parameters.AddWithValue("hash", Hash(token));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A value only the session's holder can compute: desk forms carry it against cross-site posts.</summary>
    public static string FormToken(string sessionToken) =>
        Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes("secureintake desk form v1 " + sessionToken)));

    private static byte[] Hash(string token) => SHA256.HashData(Encoding.ASCII.GetBytes(token));

    private static string KindText(DeskSessionKind kind) => kind == DeskSessionKind.Tool ? "tool" : "browser";

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
