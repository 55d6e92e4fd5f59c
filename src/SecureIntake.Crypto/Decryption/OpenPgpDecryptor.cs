using Org.BouncyCastle.Bcpg.OpenPgp;

namespace SecureIntake.Crypto.Decryption;

/// <summary>
/// Decrypts an OpenPGP message with one of the editor's secret keys. Runs on editors' machines (the desk
/// tool) and in tests, never on the server. Messages without integrity protection are refused, and so is
/// compressed content: we never compress, and a compressed packet is how a small item becomes a huge file.
/// </summary>
public sealed class OpenPgpDecryptor
{
    private readonly PgpSecretKeyRingBundle _secretKeys;
    private readonly char[] _passphrase;

    // Unlocking a protected key runs its S2K (deliberately slow in GnuPG's keys): once per key, not per message.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, PgpPrivateKey> _unlocked = new();

    private OpenPgpDecryptor(PgpSecretKeyRingBundle secretKeys, char[] passphrase)
    {
        _secretKeys = secretKeys;
        _passphrase = passphrase;
    }

    /// <summary>Reads an armored or binary secret key file; the passphrase may be empty for an unprotected key.</summary>
    public static OpenPgpDecryptor FromSecretKeys(ReadOnlySpan<byte> secretKeyData, ReadOnlySpan<char> passphrase)
    {
        try
        {
            using var decoded = PgpUtilities.GetDecoderStream(new MemoryStream(secretKeyData.ToArray(), writable: false));
            var bundle = new PgpSecretKeyRingBundle(decoded);
            return bundle.Count == 0
                ? throw new DecryptionException("the key file holds no secret key")
                : new OpenPgpDecryptor(bundle, passphrase.ToArray());
        }
        catch (Exception e) when (e is IOException or PgpException or ArgumentException)
        {
            throw new DecryptionException($"the secret key file is not readable ({e.Message})", e);
        }
    }

    /// <summary>
    /// Streams the plaintext of <paramref name="message"/> into <paramref name="plaintext"/>. The integrity
    /// check can only finish at the end: when it fails a <see cref="DecryptionException"/> is thrown after
    /// the bytes were written, so callers write to a place they discard on failure.
    /// </summary>
    public async Task DecryptAsync(Stream message, Stream plaintext, CancellationToken cancellationToken)
    {
        try
        {
            using var decoded = PgpUtilities.GetDecoderStream(message);
            var encrypted = FindEncryptedDataList(new PgpObjectFactory(decoded));
            var (data, privateKey) = FindOurSessionKey(encrypted);
            if (!data.IsIntegrityProtected())
            {
                throw new DecryptionException("the message has no integrity protection (no MDC); refusing to decrypt it");
            }

            using var clear = data.GetDataStream(privateKey);
            var literal = FindLiteralData(new PgpObjectFactory(clear));
            using (var content = literal.GetDataStream())
            {
                await content.CopyToAsync(plaintext, 81920, cancellationToken).ConfigureAwait(false);
            }

            if (!data.Verify())
            {
                throw new DecryptionException("the integrity check (MDC) failed: the message was altered or is incomplete");
            }
        }
        catch (Exception e) when (e is IOException or PgpException or InvalidOperationException or ArgumentException)
        {
            throw new DecryptionException($"the message cannot be decrypted ({e.Message})", e);
        }
    }

    private static PgpEncryptedDataList FindEncryptedDataList(PgpObjectFactory factory)
    {
        while (factory.NextPgpObject() is { } item)
        {
            switch (item)
            {
                case PgpEncryptedDataList list:
                    return list;
                case PgpMarker:
                    continue;
                default:
                    throw new DecryptionException("the data is not an encrypted OpenPGP message");
            }
        }

        throw new DecryptionException("the data is empty or not an OpenPGP message");
    }

    private (PgpPublicKeyEncryptedData Data, PgpPrivateKey Key) FindOurSessionKey(PgpEncryptedDataList list)
    {
        foreach (var data in list.GetEncryptedDataObjects().OfType<PgpPublicKeyEncryptedData>())
        {
            // Key ID 0 is a hidden recipient: try every secret key we have.
            var candidates = data.KeyId == 0
                ? _secretKeys.GetKeyRings().SelectMany(r => r.GetSecretKeys())
                : _secretKeys.GetSecretKey(data.KeyId) is { } key ? [key] : [];
            foreach (var secretKey in candidates.Where(k => !k.IsPrivateKeyEmpty))
            {
                if (!_unlocked.TryGetValue(secretKey.KeyId, out var privateKey))
                {
                    try
                    {
                        privateKey = _unlocked.GetOrAdd(secretKey.KeyId, secretKey.ExtractPrivateKey(_passphrase));
                    }
                    catch (PgpException e)
                    {
                        throw new DecryptionException("the passphrase is wrong for the secret key", e);
                    }
                }

                if (data.KeyId != 0 || CanUnlockSessionKey(data, privateKey))
                {
                    return (data, privateKey);
                }
            }
        }

        throw new DecryptionException("the message is not encrypted to any of the given secret keys");
    }

    private static bool CanUnlockSessionKey(PgpPublicKeyEncryptedData data, PgpPrivateKey key)
    {
        try
        {
            return data.GetSymmetricAlgorithm(key) != 0;
        }
        catch (PgpException)
        {
            return false;
        }
    }

    private static PgpLiteralData FindLiteralData(PgpObjectFactory factory)
    {
        while (factory.NextPgpObject() is { } item)
        {
            switch (item)
            {
                case PgpLiteralData literal:
                    return literal;
                case PgpCompressedData:
                    // Not even opened: gpg and sq compress by default, and what they make is not a submission item.
                    throw new DecryptionException("compressed data is not accepted: SecureIntake never compresses, so this item was not made by it");
                case PgpOnePassSignatureList or PgpSignatureList or PgpMarker:
                    // Signatures (for example from `gpg --sign --encrypt`) are not verified here; the content still is.
                    break;
                default:
                    throw new DecryptionException("the encrypted message holds no literal data");
            }
        }

        throw new DecryptionException("the encrypted message holds no literal data");
    }
}
