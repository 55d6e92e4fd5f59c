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
    /// <summary>The kind of <see cref="Reason"/> when it is a key's own problem, for words in an editor's language.</summary>
    public KeyProblem? Problem { get; init; }

    public string? ProblemDetail { get; init; }

    /// <summary>A key not encrypted to because of what <paramref name="verdict"/> found.</summary>
    public static KeyChange Unusable(string desk, KeyVerdict verdict, KeyChangeKind kind)
    {
        ArgumentNullException.ThrowIfNull(verdict);
        return new(desk, verdict.Fingerprint, kind, verdict.RefusalReason) { Problem = verdict.Problem, ProblemDetail = verdict.ProblemDetail };
    }

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

public enum KeyRefusalKind
{
    /// <summary>Some new key is not usable, so none was added; <see cref="KeyRefusal.Keys"/> are the refused ones with their reasons.</summary>
    NewKeyRefused,

    /// <summary>A new desk's key data held <see cref="KeyRefusal.Count"/> keys, not one.</summary>
    NotOneKey,

    /// <summary>A new desk's one key is refused (<see cref="KeyRefusal.Keys"/>).</summary>
    FirstKeyRefused,

    /// <summary>The key is the last usable one of each desk in <see cref="KeyRefusal.Keys"/>.</summary>
    LastUsableKey,

    /// <summary>No key <see cref="KeyRefusal.Fingerprint"/> (on <see cref="KeyRefusal.Desk"/>, when one was named).</summary>
    NoSuchKey,
}

/// <summary>Why a key operation changed nothing: a kind and its particulars, which the desk words in the admin's language.</summary>
public sealed record KeyRefusal(KeyRefusalKind Kind, string Fingerprint, IReadOnlyList<KeyChange> Keys, int Count = 0, string? Desk = null)
{
    /// <summary>The refusal in English, for the command line.</summary>
    public string Describe()
    {
        switch (Kind)
        {
            case KeyRefusalKind.NewKeyRefused:
                return $"nothing was added: every new key must be usable, and {string.Join("; ", Keys.Select(r => $"key {r.Fingerprint} is refused ({r.Reason})"))}";
            case KeyRefusalKind.NotOneKey:
                return $"a new desk needs exactly one usable public key, and this holds {Count}; no desk was created";
            case KeyRefusalKind.FirstKeyRefused:
                return $"a new desk needs a usable public key, and key {Fingerprint} is refused ({Keys[0].Reason}); no desk was created";
            case KeyRefusalKind.LastUsableKey:
                var desks = string.Join(", ", Keys.Select(d => $"'{d.Desk}'"));
                return $"{Fingerprint} is the last usable recipient key of desk {desks}: without it the desk could not take a submission and the service "
                    + $"would refuse to start. Add its successor first (`secureintake keys add FILE --desk {Keys[0].Desk}`), then remove it; nothing was removed";
            default:
                return $"no recipient key {Fingerprint}{(Desk is null ? "" : $" on desk '{Desk}'")}";
        }
    }
}

/// <summary>
/// What an operation did: the verdict on every key it read, each key's fate, and the refusal when nothing was
/// changed at all. <see cref="BlockedDesks"/> are the desks left with no usable key once the change is made (a revoked
/// last key): intake stops for them.
/// </summary>
public sealed record KeyChangeResult(IReadOnlyList<KeyVerdict> Read, IReadOnlyList<KeyChange> Changes, KeyRefusal? Refused, IReadOnlyList<string> BlockedDesks)
{
    public bool IsRefused => Refused is not null;

    /// <summary>The refusal in English, for the command line.</summary>
    public string? Refusal => Refused?.Describe();

    /// <summary>What stops intake, in English, for the command line.</summary>
    public IReadOnlyList<string> BlockingProblems => [.. BlockedDesks.Select(RecipientKeyCheck.Describe)];
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
                refused.Add(KeyChange.Unusable(desk, verdict, KeyChangeKind.Refused));
            }
        }

        if (refused.Count > 0)
        {
            return new KeyChangeResult(verdicts, refused, new KeyRefusal(KeyRefusalKind.NewKeyRefused, refused[0].Fingerprint, refused), []);
        }

        var changes = new List<KeyChange>();
        foreach (var verdict in verdicts)
        {
            var (added, stored) = await store.AddAsync(desk, verdict.Fingerprint, verdict.Certificate, cancellationToken).ConfigureAwait(false);
            changes.Add(stored.IsUsable
                ? new KeyChange(desk, verdict.Fingerprint, added ? KeyChangeKind.Added : KeyChangeKind.Updated)
                : KeyChange.Unusable(desk, stored, KeyChangeKind.NowRefused));
        }

        return new KeyChangeResult(verdicts, changes, null, await check.DesksWithoutUsableKeyAsync(cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Creates a desk with its first recipient: the key data must hold exactly one key, and it must be usable.</summary>
    public async Task<KeyChangeResult> CreateDeskAsync(string name, int retentionDays, ReadOnlyMemory<byte> keyData, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        name = name.Trim();
        var verdicts = RecipientKeyReader.Read(keyData.Span, clock.GetUtcNow());
        if (verdicts.Count != 1)
        {
            return new KeyChangeResult(verdicts, [], new KeyRefusal(KeyRefusalKind.NotOneKey, "", [], verdicts.Count), []);
        }

        if (verdicts[0].Key is not { } first)
        {
            KeyChange[] refused = [KeyChange.Unusable(name, verdicts[0], KeyChangeKind.Refused)];
            return new KeyChangeResult(verdicts, refused, new KeyRefusal(KeyRefusalKind.FirstKeyRefused, verdicts[0].Fingerprint, refused), []);
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
            KeyChange[] kept = [.. removal.LastUsableKeyOf.Select(d => new KeyChange(d, fingerprint, KeyChangeKind.Refused, "last usable key"))];
            return new KeyChangeResult([], kept, new KeyRefusal(KeyRefusalKind.LastUsableKey, fingerprint, kept), []);
        }

        if (removal.RemovedFrom.Count == 0)
        {
            return new KeyChangeResult([], [], new KeyRefusal(KeyRefusalKind.NoSuchKey, fingerprint, [], Desk: desk), []);
        }

        return new KeyChangeResult([], [.. removal.RemovedFrom.Select(d => new KeyChange(d, fingerprint, KeyChangeKind.Removed))], null,
            await check.DesksWithoutUsableKeyAsync(cancellationToken).ConfigureAwait(false));
    }
}
