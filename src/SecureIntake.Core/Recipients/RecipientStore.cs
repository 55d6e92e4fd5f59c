using System.Collections.Concurrent;
using System.Security.Cryptography;
using Npgsql;
using SecureIntake.Core.Editors;
using SecureIntake.Core.Storage;
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
        var found = await connection.QuerySingleOrDefaultAsync<DeskCertificate>("""
            SELECT d.id AS DeskId, r.certificate AS Certificate FROM desks d
            LEFT JOIN recipient_keys r ON r.desk_id = d.id AND r.fingerprint = @Fingerprint
            WHERE d.name = @Desk FOR UPDATE OF d
            """, new { Fingerprint = fingerprint, Desk = desk }, transaction, cancellationToken).ConfigureAwait(false)
            ?? throw new UnknownDeskException(desk);
        var merged = found.Certificate is null ? certificate : RecipientKeyReader.Merge(found.Certificate, certificate);
        await connection.ExecuteAsync("""
            INSERT INTO recipient_keys (desk_id, fingerprint, certificate) VALUES (@DeskId, @Fingerprint, @Certificate)
            ON CONFLICT (desk_id, fingerprint) DO UPDATE SET certificate = excluded.certificate
            """, new { found.DeskId, Fingerprint = fingerprint, Certificate = merged }, transaction, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return (found.Certificate is null, Judge(merged, clock.GetUtcNow()));
    }

    /// <summary>Whether a desk already has this key (so a refused copy of it can still update the stored one).</summary>
    public async Task<bool> IsStoredAsync(string desk, string fingerprint, CancellationToken cancellationToken) =>
        await dataSource.ScalarAsync<bool>("""
            SELECT EXISTS (SELECT 1 FROM recipient_keys r JOIN desks d ON d.id = r.desk_id WHERE d.name = @Desk AND r.fingerprint = @Fingerprint)
            """, new { Desk = desk, Fingerprint = fingerprint }, cancellationToken).ConfigureAwait(false);

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
        var keys = (await connection.QueryAsync<DeskKey>("""
            SELECT d.name AS Desk, r.fingerprint AS Fingerprint, r.certificate AS Certificate FROM desks d JOIN recipient_keys r ON r.desk_id = d.id
            WHERE d.id IN (SELECT desk_id FROM recipient_keys WHERE fingerprint = @Fingerprint) AND (@Desk::text IS NULL OR d.name = @Desk)
            ORDER BY d.name FOR UPDATE OF d
            """, new { Fingerprint = fingerprint, Desk = desk }, transaction, cancellationToken).ConfigureAwait(false))
            .Select(k => (k.Desk, k.Fingerprint, Usable: Judge(k.Certificate, now).IsUsable)).ToList();

        var desks = keys.Select(k => k.Desk).Distinct().ToList();
        // Taking a key that no longer works leaves a desk no worse off, even when it has nothing better.
        var lastKeyOf = desks.Where(d => keys.Any(k => k.Desk == d && k.Fingerprint == fingerprint && k.Usable)
            && !keys.Any(k => k.Desk == d && k.Fingerprint != fingerprint && k.Usable)).ToList();
        if (lastKeyOf.Count > 0 || desks.Count == 0)
        {
            return new KeyRemoval([], lastKeyOf);
        }

        await connection.ExecuteAsync("""
            DELETE FROM recipient_keys r USING desks d WHERE r.desk_id = d.id AND r.fingerprint = @Fingerprint AND d.name = ANY(@Desks)
            """, new { Fingerprint = fingerprint, Desks = desks.ToArray() }, transaction, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return new KeyRemoval(desks, []);
    }

    /// <summary>Every stored recipient, judged now: a key that expired or was revoked since it was added shows as refused.</summary>
    public async Task<IReadOnlyList<StoredRecipient>> ListAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var rows = await dataSource.QueryAsync<StoredKey>("""
            SELECT d.name AS Desk, r.fingerprint AS Fingerprint, r.added_at AS AddedAt, r.certificate AS Certificate
            FROM recipient_keys r JOIN desks d ON d.id = r.desk_id
            ORDER BY d.name, r.added_at, r.fingerprint
            """, null, cancellationToken).ConfigureAwait(false);
        return [.. rows.Select(row => new StoredRecipient(row.Desk, row.Fingerprint, row.AddedAt, Judge(row.Certificate, now)))];
    }

    /// <summary>A desk's id and the keys that can be encrypted to right now.</summary>
    public async Task<(Guid DeskId, IReadOnlyList<RecipientKey> Keys)> UsableKeysAsync(string desk, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var rows = await dataSource.QueryAsync<DeskCertificate>("""
            SELECT d.id AS DeskId, r.certificate AS Certificate FROM desks d LEFT JOIN recipient_keys r ON r.desk_id = d.id WHERE d.name = @Desk
            """, new { Desk = desk }, cancellationToken).ConfigureAwait(false);
        if (rows.Count == 0)
        {
            throw new UnknownDeskException(desk);
        }

        return (rows[0].DeskId, [.. rows.Select(row => row.Certificate is null ? null : Judge(row.Certificate, now).Key).OfType<RecipientKey>()]);
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
            throw new DeskRefusedException(DeskRefusal.BadNameOrRetention, name);
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        if (await connection.ScalarAsync<Guid?>("INSERT INTO desks (name, retention_days) VALUES (@Name, @Days) ON CONFLICT (name) DO NOTHING RETURNING id",
            new { Name = name, Days = retentionDays }, transaction, cancellationToken).ConfigureAwait(false) is not { } id)
        {
            throw new DeskRefusedException(DeskRefusal.NameTaken, name);
        }

        await connection.ExecuteAsync("INSERT INTO recipient_keys (desk_id, fingerprint, certificate) VALUES (@DeskId, @Fingerprint, @Certificate)",
            new { DeskId = id, firstKey.Fingerprint, Certificate = firstKey.GetEncoded() }, transaction, cancellationToken).ConfigureAwait(false);

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>How long a desk keeps submissions after the witness's last message (unless on hold).</summary>
    public async Task SetRetentionAsync(string desk, int days, CancellationToken cancellationToken)
    {
        if (days is < 1 or > 3650)
        {
            throw new DeskRefusedException(DeskRefusal.BadRetention, desk);
        }

        if (await dataSource.ExecuteAsync("UPDATE desks SET retention_days = @Days WHERE name = @Desk", new { Desk = desk, Days = days }, cancellationToken)
            .ConfigureAwait(false) != 1)
        {
            throw new UnknownDeskException(desk);
        }
    }

    public async Task<IReadOnlyList<(string Name, int RetentionDays)>> DesksAsync(CancellationToken cancellationToken) =>
        [.. (await dataSource.QueryAsync<DeskRetention>("SELECT name AS Name, retention_days AS RetentionDays FROM desks ORDER BY name", null, cancellationToken)
            .ConfigureAwait(false)).Select(d => (d.Name, d.RetentionDays))];

    public Task<IReadOnlyList<string>> DeskNamesAsync(CancellationToken cancellationToken) => DeskNamesAsync(DeskScope.Everything, cancellationToken);

    /// <summary>The names of the desks in <paramref name="scope"/>: what an editor may filter their queue by.</summary>
    public Task<IReadOnlyList<string>> DeskNamesAsync(DeskScope scope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scope);
        return dataSource.QueryAsync<string>($"SELECT name FROM desks WHERE {scope.Condition("id")} ORDER BY name", scope.Arguments(), cancellationToken);
    }

    private sealed record DeskCertificate(Guid DeskId, byte[]? Certificate);

    private sealed record DeskKey(string Desk, string Fingerprint, byte[] Certificate);

    private sealed record StoredKey(string Desk, string Fingerprint, DateTimeOffset AddedAt, byte[] Certificate);

    private sealed record DeskRetention(string Name, int RetentionDays);
}

/// <summary>The desks a key was removed from, or (and then nothing was removed) the desks it is the last usable key of.</summary>
public sealed record KeyRemoval(IReadOnlyList<string> RemovedFrom, IReadOnlyList<string> LastUsableKeyOf);

public sealed class UnknownDeskException(string desk) : Exception($"there is no desk named '{desk}'")
{
    public string Desk { get; } = desk;
}

public enum DeskRefusal
{
    BadNameOrRetention,
    NameTaken,
    BadRetention,
}

/// <summary>A desk change refused by the rules, with nothing changed; <see cref="Kind"/> says why for any language, the message in English.</summary>
public sealed class DeskRefusedException(DeskRefusal kind, string desk) : Exception(kind switch
{
    DeskRefusal.BadNameOrRetention => "a desk name is 1 to 63 lower-case letters, digits or '-', and retention is 1 to 3650 days",
    DeskRefusal.NameTaken => $"there is already a desk named '{desk}'",
    _ => "retention is 1 to 3650 days",
})
{
    public DeskRefusal Kind { get; } = kind;

    public string Desk { get; } = desk;
}
