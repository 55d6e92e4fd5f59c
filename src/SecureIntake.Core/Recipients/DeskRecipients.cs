using SecureIntake.Crypto.Keys;

namespace SecureIntake.Core.Recipients;

public enum KeyChangeKind
{
    /// <summary>A new, usable key: submissions to the desk are now encrypted to it too.</summary>
    Added,

    /// <summary>A stored key merged with a newer copy (expiry, subkeys) and still usable.</summary>
    Updated,

    /// <summary>A stored key merged with a copy that makes it unusable (most often its revocation): no longer encrypted to.</summary>
    NowRefused,

    /// <summary>A key that was not taken, with the reason.</summary>
    Refused,

    Removed,
}

/// <summary>One key's fate in a <see cref="DeskRecipients"/> operation.</summary>
public sealed record KeyChange(string Desk, string Fingerprint, KeyChangeKind Kind, string? Reason = null)
{
    /// <summary>One line for an admin: what happened to the key and, when it is not encrypted to, why.</summary>
    public string Describe() => Kind switch
    {
        KeyChangeKind.Added => $"added {Fingerprint} for desk '{Desk}'",
        KeyChangeKind.Updated => $"updated {Fingerprint} for desk '{Desk}'",
        KeyChangeKind.NowRefused => $"updated {Fingerprint} for desk '{Desk}': it is now refused ({Reason}) and will no longer be encrypted to",
        KeyChangeKind.Refused => $"refused {Fingerprint}: {Reason}",
        _ => $"removed {Fingerprint} from desk '{Desk}'",
    };
}

/// <summary>
/// What an operation did: the verdict on every key it read, each key's fate, and the refusal when nothing was
/// changed at all. <see cref="BlockingProblems"/> are what stops intake once the change is made (a revoked last key).
/// </summary>
public sealed record KeyChangeResult(IReadOnlyList<KeyVerdict> Read, IReadOnlyList<KeyChange> Changes, string? Refusal, IReadOnlyList<string> BlockingProblems)
{
    public bool IsRefused => Refusal is not null;
}

/// <summary>
/// The rules for a desk's recipient keys, in one place for the command line and the admin pages:
/// every new key must be usable or nothing is added; a copy of a key the desk already holds is merged even when it
/// is no longer usable, because that is how a revocation (or a shortened expiry) arrives; a desk is created with its
/// first usable key; a desk's last usable key is never removed, since a desk with no recipient cannot take a
/// submission and the service refuses to start while one exists.
/// Input that cannot be used at all (unreadable key data, a private key, an unknown desk) throws as
/// <see cref="RecipientKeyReader"/> and <see cref="RecipientStore"/> do; a refusal by the rules is a result.
/// </summary>
public sealed class DeskRecipients(RecipientStore store, RecipientKeyCheck check, TimeProvider clock)
{
    /// <summary>Adds or updates every key in armored or binary key data on one desk.</summary>
    public async Task<KeyChangeResult> AddKeysAsync(string desk, ReadOnlyMemory<byte> keyData, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(desk);
        var verdicts = RecipientKeyReader.Read(keyData.Span, clock.GetUtcNow());
        if (!(await store.DeskNamesAsync(cancellationToken).ConfigureAwait(false)).Contains(desk))
        {
            throw new UnknownDeskException(desk);
        }

        var refused = new List<KeyChange>();
        foreach (var verdict in verdicts.Where(v => !v.IsUsable))
        {
            if (!await store.IsStoredAsync(desk, verdict.Fingerprint, cancellationToken).ConfigureAwait(false))
            {
                refused.Add(new KeyChange(desk, verdict.Fingerprint, KeyChangeKind.Refused, verdict.RefusalReason));
            }
        }

        if (refused.Count > 0)
        {
            var which = string.Join("; ", refused.Select(r => $"key {r.Fingerprint} is refused ({r.Reason})"));
            return new KeyChangeResult(verdicts, refused, $"nothing was added: every new key must be usable, and {which}", []);
        }

        var changes = new List<KeyChange>();
        foreach (var verdict in verdicts)
        {
            var (added, stored) = await store.AddAsync(desk, verdict.Fingerprint, verdict.Certificate, cancellationToken).ConfigureAwait(false);
            changes.Add(stored.IsUsable
                ? new KeyChange(desk, verdict.Fingerprint, added ? KeyChangeKind.Added : KeyChangeKind.Updated)
                : new KeyChange(desk, verdict.Fingerprint, KeyChangeKind.NowRefused, stored.RefusalReason));
        }

        return new KeyChangeResult(verdicts, changes, null, await check.FindBlockingProblemsAsync(cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Creates a desk with its first recipient: the key data must hold exactly one key, and it must be usable.</summary>
    public async Task<KeyChangeResult> CreateDeskAsync(string name, int retentionDays, ReadOnlyMemory<byte> keyData, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        name = name.Trim();
        var verdicts = RecipientKeyReader.Read(keyData.Span, clock.GetUtcNow());
        if (verdicts.Count != 1)
        {
            return new KeyChangeResult(verdicts, [], $"a new desk needs exactly one usable public key, and this holds {verdicts.Count}; no desk was created", []);
        }

        if (verdicts[0].Key is not { } first)
        {
            return new KeyChangeResult(verdicts, [new KeyChange(name, verdicts[0].Fingerprint, KeyChangeKind.Refused, verdicts[0].RefusalReason)],
                $"a new desk needs a usable public key, and key {verdicts[0].Fingerprint} is refused ({verdicts[0].RefusalReason}); no desk was created", []);
        }

        await store.CreateDeskAsync(name, retentionDays, first, cancellationToken).ConfigureAwait(false);
        return new KeyChangeResult(verdicts, [new KeyChange(name, first.Fingerprint, KeyChangeKind.Added)], null, []);
    }

    /// <summary>Stops encrypting to a key on one desk, or on every desk when none is named; refused if it is any of those desks' last usable key.</summary>
    public async Task<KeyChangeResult> RemoveKeyAsync(string fingerprint, string? desk, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(fingerprint);
        fingerprint = fingerprint.Trim().ToUpperInvariant();
        var removal = await store.RemoveAsync(fingerprint, desk, cancellationToken).ConfigureAwait(false);
        if (removal.LastUsableKeyOf.Count > 0)
        {
            var desks = string.Join(", ", removal.LastUsableKeyOf.Select(d => $"'{d}'"));
            var first = removal.LastUsableKeyOf[0];
            return new KeyChangeResult([], [.. removal.LastUsableKeyOf.Select(d => new KeyChange(d, fingerprint, KeyChangeKind.Refused, "last usable key"))],
                $"{fingerprint} is the last usable recipient key of desk {desks}: without it the desk could not take a submission and the service "
                + $"would refuse to start. Add its successor first (`secureintake keys add FILE --desk {first}`), then remove it; nothing was removed", []);
        }

        if (removal.RemovedFrom.Count == 0)
        {
            return new KeyChangeResult([], [], $"no recipient key {fingerprint}{(desk is null ? "" : $" on desk '{desk}'")}", []);
        }

        return new KeyChangeResult([], [.. removal.RemovedFrom.Select(d => new KeyChange(d, fingerprint, KeyChangeKind.Removed))], null,
            await check.FindBlockingProblemsAsync(cancellationToken).ConfigureAwait(false));
    }
}
