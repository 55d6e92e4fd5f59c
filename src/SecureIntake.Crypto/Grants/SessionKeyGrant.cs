using System.Buffers.Binary;
using System.Security.Cryptography;
using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Agreement;
using Org.BouncyCastle.Crypto.Encodings;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.Utilities;
using SecureIntake.Crypto.Decryption;
using SecureIntake.Crypto.Encryption;
using SecureIntake.Crypto.Keys;

namespace SecureIntake.Crypto.Grants;

/// <summary>
/// Gives another key access to an item without opening it: the editor's secret key recovers the item's session key
/// from the editor's own key packet, and a new key packet encrypts that same session key to the new recipient. The
/// encrypted content is never read, so the new recipient gets exactly what the others have, and no plaintext exists
/// anywhere on the way. Runs on editors' machines (the desk tool) and in tests, never on the server.
/// </summary>
public sealed class SessionKeyGrant
{
    private readonly PgpSecretKeyRingBundle _secretKeys;
    private readonly char[] _passphrase;
    private readonly Dictionary<long, PgpPrivateKey> _unlocked = [];
    private readonly SecureRandom _random = new();

    private SessionKeyGrant(PgpSecretKeyRingBundle secretKeys, char[] passphrase)
    {
        _secretKeys = secretKeys;
        _passphrase = passphrase;
    }

    /// <summary>Reads an armored or binary secret key file; the passphrase may be empty for an unprotected key.</summary>
    /// <exception cref="DecryptionException">The file holds no readable secret key.</exception>
    public static SessionKeyGrant FromSecretKeys(ReadOnlySpan<byte> secretKeyData, ReadOnlySpan<char> passphrase)
    {
        try
        {
            using var decoded = PgpUtilities.GetDecoderStream(new MemoryStream(secretKeyData.ToArray(), writable: false));
            var bundle = new PgpSecretKeyRingBundle(decoded);
            return bundle.Count == 0
                ? throw new DecryptionException("the key file holds no secret key")
                : new SessionKeyGrant(bundle, passphrase.ToArray());
        }
        catch (Exception e) when (e is IOException or PgpException or ArgumentException)
        {
            throw new DecryptionException($"the secret key file is not readable ({e.Message})", e);
        }
    }

    /// <summary>
    /// New key packets for <paramref name="recipients"/>, each carrying the session key of the item whose key packets
    /// are <paramref name="itemPackets"/>. Recipients that already have a packet there are left out.
    /// </summary>
    /// <exception cref="DecryptionException">None of the packets is for our secret key, or it does not unlock.</exception>
    public byte[] PacketsFor(IReadOnlyList<KeyPacket> itemPackets, IEnumerable<RecipientKey> recipients)
    {
        ArgumentNullException.ThrowIfNull(itemPackets);
        ArgumentNullException.ThrowIfNull(recipients);
        var missing = NotYetReaders(itemPackets, recipients);
        var sessionKey = RecoverSessionKey(itemPackets);
        try
        {
            using var packets = new MemoryStream();
            foreach (var recipient in missing)
            {
                packets.Write(SessionKeyPackets.For(recipient, sessionKey, _random));
            }

            return packets.ToArray();
        }
        finally
        {
            CryptographicOperations.ZeroMemory(sessionKey);
        }
    }

    /// <summary>
    /// The recipients, each once, whose encryption key has no packet among <paramref name="itemPackets"/>: the ones
    /// <see cref="PacketsFor"/> makes packets for, so that the desk tool can say who was added and who could read already.
    /// </summary>
    public static IReadOnlyList<RecipientKey> NotYetReaders(IReadOnlyList<KeyPacket> itemPackets, IEnumerable<RecipientKey> recipients)
    {
        ArgumentNullException.ThrowIfNull(itemPackets);
        ArgumentNullException.ThrowIfNull(recipients);
        var present = itemPackets.Select(p => p.KeyId).ToHashSet();
        return recipients.Where(r => present.Add(r.EncryptionKey.KeyId)).ToList();
    }

    /// <summary>
    /// The AES-256 session key behind the first packet one of our secret keys opens. Internal: a session key opens the
    /// item for anyone holding it, so it never leaves this class except inside a new key packet (and for tests).
    /// </summary>
    internal byte[] RecoverSessionKey(IReadOnlyList<KeyPacket> itemPackets)
    {
        DecryptionException? lastFailure = null;
        foreach (var packet in itemPackets)
        {
            if (_secretKeys.GetSecretKey(packet.KeyId) is not { IsPrivateKeyEmpty: false } secretKey)
            {
                continue;
            }

            var privateKey = Unlock(secretKey);
            byte[]? sessionInfo = null;
            try
            {
                sessionInfo = packet.Algorithm == PublicKeyAlgorithmTag.ECDH
                    ? Ecdh(packet.EncryptedSessionKey, privateKey)
                    : Rsa(packet.EncryptedSessionKey, privateKey);
                return SessionKeyOf(sessionInfo);
            }
            catch (Exception e) when (e is InvalidCipherTextException or ArgumentException or InvalidCastException or PgpException or DecryptionException)
            {
                // A damaged packet for our key: another of ours (say an older subkey) may still open the item.
                lastFailure = new DecryptionException($"the key packet for {packet.KeyIdHex} does not open with the secret key ({e.Message})", e);
            }
            finally
            {
                if (sessionInfo is not null)
                {
                    CryptographicOperations.ZeroMemory(sessionInfo);
                }
            }
        }

        throw lastFailure ?? new DecryptionException(
            $"the item is not encrypted to the given secret key (its key packets are for {string.Join(", ", itemPackets.Select(p => p.KeyIdHex))})");
    }

    private PgpPrivateKey Unlock(PgpSecretKey secretKey)
    {
        if (_unlocked.TryGetValue(secretKey.KeyId, out var privateKey))
        {
            return privateKey;
        }

        try
        {
            return _unlocked[secretKey.KeyId] = secretKey.ExtractPrivateKey(_passphrase);
        }
        catch (PgpException e)
        {
            throw new DecryptionException("the passphrase is wrong for the secret key", e);
        }
    }

    /// <summary>Algorithm octet, key, checksum: the session key out of it, refused unless it is what SecureIntake writes.</summary>
    private static byte[] SessionKeyOf(byte[] sessionInfo)
    {
        if (sessionInfo.Length != 35 || sessionInfo[0] != (byte)SymmetricKeyAlgorithmTag.Aes256)
        {
            throw new DecryptionException("the item's session key is not AES-256: it was not made by SecureIntake");
        }

        var key = sessionInfo.AsSpan(1, 32);
        var checksum = 0;
        foreach (var b in key)
        {
            checksum += b;
        }

        if (BinaryPrimitives.ReadUInt16BigEndian(sessionInfo.AsSpan(33)) != (ushort)checksum)
        {
            throw new DecryptionException("the session key's checksum is wrong");
        }

        return key.ToArray();
    }

    private static byte[] Rsa(ReadOnlySpan<byte> fields, PgpPrivateKey privateKey)
    {
        var cipher = new Pkcs1Encoding(new RsaBlindedEngine());
        cipher.Init(false, privateKey.Key);
        var value = fields[2..].ToArray();
        return cipher.ProcessBlock(value, 0, value.Length);
    }

    private static byte[] Ecdh(ReadOnlySpan<byte> fields, PgpPrivateKey privateKey)
    {
        var pointBytes = (BinaryPrimitives.ReadUInt16BigEndian(fields) + 7) / 8;
        var point = fields.Slice(2, pointBytes);
        var wrapped = fields[(2 + pointBytes + 1)..].ToArray();
        var publicKey = (ECDHPublicBcpgKey)privateKey.PublicKeyPacket.Key;

        byte[] sharedSecret;
        if (publicKey.CurveOid.Equals(KeyDescriptions.Curve25519))
        {
            if (point.Length != 33 || point[0] != 0x40)
            {
                throw new ArgumentException("the ephemeral Curve25519 point is malformed");
            }

            var agreement = new X25519Agreement();
            agreement.Init(privateKey.Key);
            sharedSecret = new byte[agreement.AgreementSize];
            agreement.CalculateAgreement(new X25519PublicKeyParameters(point[1..]), sharedSecret, 0);
        }
        else
        {
            var ours = (ECPrivateKeyParameters)privateKey.Key;
            var ephemeral = new ECPublicKeyParameters(ours.Parameters.Curve.DecodePoint(point.ToArray()), ours.Parameters);
            var agreement = new ECDHBasicAgreement();
            agreement.Init(ours);
            sharedSecret = BigIntegers.AsUnsignedByteArray(agreement.GetFieldSize(), agreement.CalculateAgreement(ephemeral));
        }

        var keyEncryptionKey = Rfc6637Utilities.CreateKey(privateKey.PublicKeyPacket, sharedSecret);
        try
        {
            var unwrap = new Rfc3394WrapEngine(new AesEngine());
            unwrap.Init(false, new KeyParameter(keyEncryptionKey));
            var padded = unwrap.Unwrap(wrapped, 0, wrapped.Length);
            return Unpad(padded);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(sharedSecret);
            CryptographicOperations.ZeroMemory(keyEncryptionKey);
        }
    }

    /// <summary>RFC 6637 section 8: every pad octet holds the pad length.</summary>
    private static byte[] Unpad(byte[] padded)
    {
        var padLength = padded.Length == 0 ? 0 : padded[^1];
        if (padLength is 0 or > 8 || padLength > padded.Length || padded.AsSpan(padded.Length - padLength).IndexOfAnyExcept((byte)padLength) >= 0)
        {
            CryptographicOperations.ZeroMemory(padded);
            throw new ArgumentException("the unwrapped session key has bad padding");
        }

        var info = padded[..^padLength];
        CryptographicOperations.ZeroMemory(padded);
        return info;
    }
}

/// <summary>Judges the key to grant access to by the same rules as the server's recipients.</summary>
public static class GrantRecipients
{
    /// <summary>
    /// Reads a public key file that must hold exactly one key fit to encrypt to; an expired, revoked or sign-only key
    /// is refused with the reason, as the server refuses it as a desk recipient.
    /// </summary>
    /// <exception cref="KeyFileException">The file is unreadable, holds no key or more than one, or the key is unusable.</exception>
    public static RecipientKey Read(ReadOnlySpan<byte> keyFile, DateTimeOffset now)
    {
        var verdicts = RecipientKeyReader.Read(keyFile, now);
        if (verdicts.Count != 1)
        {
            throw new KeyFileException($"the key file holds {verdicts.Count} keys; give one key to grant access to");
        }

        var verdict = verdicts[0];
        return verdict.Key ?? throw new KeyFileException($"the key {verdict.Fingerprint} cannot be given access: {verdict.RefusalReason}");
    }
}
