using SecureIntake.Contracts;
using SecureIntake.Core.Recipients;
using SecureIntake.Crypto.Grants;

namespace SecureIntake.Core.Grants;

/// <summary>
/// Names the keys an item's packets are for: a packet carries only a key id, which the recipient keys the server
/// knows (any desk's, usable or not any more) turn into a fingerprint and a user ID. An unknown key id stays bare.
/// </summary>
public sealed class ItemReaders(RecipientStore recipients)
{
    public async Task<KnownKeys> KnownKeysAsync(CancellationToken cancellationToken)
    {
        var known = new Dictionary<long, KeyReader>();
        foreach (var stored in await recipients.ListAsync(cancellationToken).ConfigureAwait(false))
        {
            var userId = stored.Verdict.Key?.UserIds is [var first, ..] ? first : null;
            foreach (var keyId in CertificateKeyIds.Of(stored.Verdict.Certificate))
            {
                known.TryAdd(keyId, new KeyReader(KeyPackets.FormatKeyId(keyId), stored.Fingerprint, userId));
            }
        }

        return new KnownKeys(known);
    }
}

public sealed class KnownKeys(IReadOnlyDictionary<long, KeyReader> known)
{
    public KeyReader Describe(long keyId) => known.TryGetValue(keyId, out var reader) ? reader : new KeyReader(KeyPackets.FormatKeyId(keyId), null, null);
}
