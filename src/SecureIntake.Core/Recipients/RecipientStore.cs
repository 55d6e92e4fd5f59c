using System.Collections.Concurrent;
using System.Security.Cryptography;
using Npgsql;
using SecureIntake.Core.Editors;
using SecureIntake.Crypto.Keys;

namespace SecureIntake.Core.Recipients;

/// <summary>The desks' recipient certificates in PostgreSQL. Only keys that pass every check are ever added.</summary>
public sealed class RecipientStore(NpgsqlDataSource dataSource, TimeProvider clock)
{
    public const string DefaultDesk = "default";

    /// <summary>How long a certificate's verified verdict is reused before its signatures are checked again.</summary>
    public static readonly TimeSpan ReverifyAfter = TimeSpan.FromHours(1);

    // Verifying a certificate costs up to a second (RSA moduli get a primality test per signature), and every
    // submission needs its desk's keys: verdicts are kept per exact certificate bytes, expiry checked at each use.
    private readonly ConcurrentDictionary<string, (DateTimeOffset CheckedAt, KeyVerdict Verdict)> _verdicts = new();

    /// <summary>Adds a usable key to a desk; true if it was new there.</summary>
    public async Task<bool> AddAsync(string desk, RecipientKey key, CancellationToken cancellationToken) =>
        (await AddAsync(desk, key.Fingerprint, key.GetEncoded(), cancellationToken).ConfigureAwait(false)).Added;

    /// <summary>
    /// Adds a certificate to a desk, or merges it into the stored copy: a newer copy may extend expiry, add a
    /// subkey or carry a revocation, and an older one can never take a revocation away. Returns whether the
    /// key was new and the verdict on what is stored now (a merged-in revocation makes it refused).
    /// </summary>
    public async Task<(bool Added, KeyVerdict Stored)> AddAsync(string desk, string fingerprint, byte[] certificate, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var find = new NpgsqlCommand("""
            SELECT d.id, r.certificate FROM desks d
            LEFT JOIN recipient_keys r ON r.desk_id = d.id AND r.fingerprint = @fingerprint
            WHERE d.name = @desk FOR UPDATE OF d
            """, connection, transaction);
        find.Parameters.AddWithValue("fingerprint", fingerprint);
        find.Parameters.AddWithValue("desk", desk);
        Guid deskId;
        byte[]? stored;
        await using (var reader = await find.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                throw new UnknownDeskException(desk);
            }

            deskId = reader.GetGuid(0);
            stored = reader.IsDBNull(1) ? null : reader.GetFieldValue<byte[]>(1);
        }

        var merged = stored is null ? certificate : RecipientKeyReader.Merge(stored, certificate);
        await using var upsert = new NpgsqlCommand("""
            INSERT INTO recipient_keys (desk_id, fingerprint, certificate) VALUES (@desk, @fingerprint, @certificate)
            ON CONFLICT (desk_id, fingerprint) DO UPDATE SET certificate = excluded.certificate
            """, connection, transaction);
        upsert.Parameters.AddWithValue("desk", deskId);
        upsert.Parameters.AddWithValue("fingerprint", fingerprint);
        upsert.Parameters.AddWithValue("certificate", merged);
        await upsert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return (stored is null, Judge(merged, clock.GetUtcNow()));
    }

    /// <summary>Whether a desk already has this key (so a refused copy of it can still update the stored one).</summary>
    public async Task<bool> IsStoredAsync(string desk, string fingerprint, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT EXISTS (SELECT 1 FROM recipient_keys r JOIN desks d ON d.id = r.desk_id WHERE d.name = @desk AND r.fingerprint = @fingerprint)
            """);
        command.Parameters.AddWithValue("desk", desk);
        command.Parameters.AddWithValue("fingerprint", fingerprint);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>
    /// Removes a fingerprint from one desk, or from every desk when none is named, unless that would take a desk's
    /// last usable key: then nothing is removed and those desks are named. Decided under the desks' row locks (as
    /// <see cref="AddAsync(string, string, byte[], CancellationToken)"/> takes them), so two removals at once cannot
    /// each leave the other's key as the last and take both.
    /// </summary>
    public async Task<KeyRemoval> RemoveAsync(string fingerprint, string? desk, CancellationToken cancellationToken)
    {
        fingerprint = fingerprint.ToUpperInvariant();
        var now = clock.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var find = new NpgsqlCommand("""
            SELECT d.name, r.fingerprint, r.certificate FROM desks d JOIN recipient_keys r ON r.desk_id = d.id
            WHERE d.id IN (SELECT desk_id FROM recipient_keys WHERE fingerprint = @fingerprint) AND (@desk::text IS NULL OR d.name = @desk)
            ORDER BY d.name FOR UPDATE OF d
            """, connection, transaction);
        find.Parameters.AddWithValue("fingerprint", fingerprint);
        find.Parameters.AddWithValue("desk", (object?)desk ?? DBNull.Value);
        var keys = new List<(string Desk, string Fingerprint, bool Usable)>();
        await using (var reader = await find.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                keys.Add((reader.GetString(0), reader.GetString(1), Judge(reader.GetFieldValue<byte[]>(2), now).IsUsable));
            }
        }

        var desks = keys.Select(k => k.Desk).Distinct().ToList();
        // Taking a key that no longer works leaves a desk no worse off, even when it has nothing better.
        var lastKeyOf = desks.Where(d => keys.Any(k => k.Desk == d && k.Fingerprint == fingerprint && k.Usable)
            && !keys.Any(k => k.Desk == d && k.Fingerprint != fingerprint && k.Usable)).ToList();
        if (lastKeyOf.Count > 0 || desks.Count == 0)
        {
            return new KeyRemoval([], lastKeyOf);
        }

        await using var delete = new NpgsqlCommand("""
            DELETE FROM recipient_keys r USING desks d WHERE r.desk_id = d.id AND r.fingerprint = @fingerprint AND d.name = ANY(@desks)
            """, connection, transaction);
        delete.Parameters.AddWithValue("fingerprint", fingerprint);
        delete.Parameters.AddWithValue("desks", desks.ToArray());
        await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return new KeyRemoval(desks, []);
    }

    /// <summary>Every stored recipient, judged now: a key that expired or was revoked since it was added shows as refused.</summary>
    public async Task<IReadOnlyList<StoredRecipient>> ListAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await using var command = dataSource.CreateCommand("""
            SELECT d.name, r.fingerprint, r.added_at, r.certificate
            FROM recipient_keys r JOIN desks d ON d.id = r.desk_id
            ORDER BY d.name, r.added_at, r.fingerprint
            """);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var recipients = new List<StoredRecipient>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var certificate = reader.GetFieldValue<byte[]>(3);
            var verdict = Judge(certificate, now);
            recipients.Add(new StoredRecipient(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2), verdict));
        }

        return recipients;
    }

    /// <summary>A desk's id and the keys that can be encrypted to right now.</summary>
    public async Task<(Guid DeskId, IReadOnlyList<RecipientKey> Keys)> UsableKeysAsync(string desk, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await using var command = dataSource.CreateCommand("""
            SELECT d.id, r.certificate FROM desks d LEFT JOIN recipient_keys r ON r.desk_id = d.id WHERE d.name = @desk
            """);
        command.Parameters.AddWithValue("desk", desk);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        Guid? deskId = null;
        var keys = new List<RecipientKey>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            deskId = reader.GetGuid(0);
            if (!reader.IsDBNull(1) && Judge(reader.GetFieldValue<byte[]>(1), now).Key is { } key)
            {
                keys.Add(key);
            }
        }

        return deskId is { } id ? (id, keys) : throw new UnknownDeskException(desk);
    }

    private KeyVerdict Judge(byte[] certificate, DateTimeOffset now)
    {
        var id = Convert.ToHexString(SHA256.HashData(certificate));
        if (_verdicts.TryGetValue(id, out var cached)
            && now >= cached.CheckedAt && now - cached.CheckedAt < ReverifyAfter
            && !(cached.Verdict.Key?.EncryptionKeyExpires <= now))
        {
            return cached.Verdict;
        }

        var verdict = RecipientKeyReader.Read(certificate, now).Single();
        _verdicts[id] = (now, verdict);
        return verdict;
    }

    /// <summary>
    /// A new desk, created with its first recipient key in one step: a desk without a usable key could not take
    /// a single submission, and the roles refuse to start while one exists.
    /// </summary>
    public async Task CreateDeskAsync(string name, int retentionDays, RecipientKey firstKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(firstKey);
        if (!System.Text.RegularExpressions.Regex.IsMatch(name, "^[a-z0-9][a-z0-9-]{0,62}$") || retentionDays is < 1 or > 3650)
        {
            throw new KeyFileException("a desk name is 1 to 63 lower-case letters, digits or '-', and retention is 1 to 3650 days");
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var insert = new NpgsqlCommand(
            "INSERT INTO desks (name, retention_days) VALUES (@name, @days) ON CONFLICT (name) DO NOTHING RETURNING id", connection, transaction))
        {
            insert.Parameters.AddWithValue("name", name);
            insert.Parameters.AddWithValue("days", retentionDays);
            if (await insert.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not Guid id)
            {
                throw new KeyFileException($"there is already a desk named '{name}'");
            }

            await using var key = new NpgsqlCommand("INSERT INTO recipient_keys (desk_id, fingerprint, certificate) VALUES (@desk, @fingerprint, @certificate)",
                connection, transaction);
            key.Parameters.AddWithValue("desk", id);
            key.Parameters.AddWithValue("fingerprint", firstKey.Fingerprint);
            key.Parameters.AddWithValue("certificate", firstKey.GetEncoded());
            await key.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>How long a desk keeps submissions after the witness's last message (unless on hold).</summary>
    public async Task SetRetentionAsync(string desk, int days, CancellationToken cancellationToken)
    {
        if (days is < 1 or > 3650)
        {
            throw new KeyFileException("retention is 1 to 3650 days");
        }

        await using var command = dataSource.CreateCommand("UPDATE desks SET retention_days = @days WHERE name = @desk");
        command.Parameters.AddWithValue("desk", desk);
        command.Parameters.AddWithValue("days", days);
        if (await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) != 1)
        {
            throw new UnknownDeskException(desk);
        }
    }

    public async Task<IReadOnlyList<(string Name, int RetentionDays)>> DesksAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT name, retention_days FROM desks ORDER BY name");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var desks = new List<(string, int)>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            desks.Add((reader.GetString(0), reader.GetInt32(1)));
        }

        return desks;
    }

    public Task<IReadOnlyList<string>> DeskNamesAsync(CancellationToken cancellationToken) => DeskNamesAsync(DeskScope.Everything, cancellationToken);

    /// <summary>The names of the desks in <paramref name="scope"/>: what an editor may filter their queue by.</summary>
    public async Task<IReadOnlyList<string>> DeskNamesAsync(DeskScope scope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scope);
        await using var command = dataSource.CreateCommand($"SELECT name FROM desks WHERE {scope.Condition("id")} ORDER BY name");
        scope.AddParameter(command);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var names = new List<string>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }
}

/// <summary>The desks a key was removed from, or (and then nothing was removed) the desks it is the last usable key of.</summary>
public sealed record KeyRemoval(IReadOnlyList<string> RemovedFrom, IReadOnlyList<string> LastUsableKeyOf);

public sealed class UnknownDeskException(string desk) : Exception($"there is no desk named '{desk}'");
