using System.Collections.Concurrent;
using System.Security.Cryptography;
using Npgsql;
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

    /// <summary>Adds or refreshes (a newer copy may extend expiry or add subkeys) a usable key; false if it was already there.</summary>
    public async Task<bool> AddAsync(string desk, RecipientKey key, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO recipient_keys (desk_id, fingerprint, certificate)
            SELECT id, @fingerprint, @certificate FROM desks WHERE name = @desk
            ON CONFLICT (desk_id, fingerprint) DO UPDATE SET certificate = excluded.certificate
            RETURNING (xmax = 0) AS inserted
            """);
        command.Parameters.AddWithValue("fingerprint", key.Fingerprint);
        command.Parameters.AddWithValue("certificate", key.GetEncoded());
        command.Parameters.AddWithValue("desk", desk);
        var inserted = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return inserted is bool added ? added : throw new UnknownDeskException(desk);
    }

    /// <summary>Removes a fingerprint from one desk, or from every desk when none is named; returns how many went.</summary>
    public async Task<int> RemoveAsync(string fingerprint, string? desk, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            DELETE FROM recipient_keys r USING desks d
            WHERE r.desk_id = d.id AND r.fingerprint = @fingerprint AND (@desk::text IS NULL OR d.name = @desk)
            """);
        command.Parameters.AddWithValue("fingerprint", fingerprint.ToUpperInvariant());
        command.Parameters.AddWithValue("desk", (object?)desk ?? DBNull.Value);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
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

    public async Task<IReadOnlyList<string>> DeskNamesAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT name FROM desks ORDER BY name");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var names = new List<string>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }
}

public sealed class UnknownDeskException(string desk) : Exception($"there is no desk named '{desk}'");
