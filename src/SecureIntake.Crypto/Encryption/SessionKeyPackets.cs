using System.Buffers.Binary;
using System.Security.Cryptography;
using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;
using SecureIntake.Crypto.Keys;

namespace SecureIntake.Crypto.Encryption;

/// <summary>
/// Public-key encrypted session key packets (version 3), one per recipient, for RSA and ECDH
/// (RFC 4880 section 5.1, RFC 6637). BouncyCastle's generator keeps the session key to itself and
/// encrypts the data with its slower managed AES, so we build these packets here from its primitives
/// and encrypt the data ourselves.
/// </summary>
internal static class SessionKeyPackets
{
    public static byte[] For(RecipientKey recipient, ReadOnlySpan<byte> sessionKey, SecureRandom random)
    {
        var key = recipient.EncryptionKey;
        var sessionInfo = SessionInfo(sessionKey);
        byte[] encrypted;
        try
        {
            encrypted = key.Algorithm switch
            {
                PublicKeyAlgorithmTag.RsaGeneral or PublicKeyAlgorithmTag.RsaEncrypt => Rsa(recipient, sessionInfo),
                PublicKeyAlgorithmTag.ECDH => Ecdh(recipient, sessionInfo, random),
                _ => throw new InvalidOperationException($"cannot encrypt a session key to {KeyDescriptions.Algorithm(key)}"),
            };
        }
        finally
        {
            CryptographicOperations.ZeroMemory(sessionInfo);
        }

        var body = new byte[10 + encrypted.Length];
        body[0] = 3;
        BinaryPrimitives.WriteInt64BigEndian(body.AsSpan(1), key.KeyId);
        body[9] = (byte)key.Algorithm;
        encrypted.CopyTo(body, 10);
        return PacketFraming.Packet(PacketFraming.PublicKeyEncryptedSessionKeyTag, body);
    }

    /// <summary>Algorithm octet, the key, and a two-octet checksum (sum of the key octets mod 65536).</summary>
    private static byte[] SessionInfo(ReadOnlySpan<byte> sessionKey)
    {
        var info = new byte[sessionKey.Length + 3];
        info[0] = (byte)SymmetricKeyAlgorithmTag.Aes256;
        sessionKey.CopyTo(info.AsSpan(1));
        var checksum = 0;
        foreach (var b in sessionKey)
        {
            checksum += b;
        }

        BinaryPrimitives.WriteUInt16BigEndian(info.AsSpan(info.Length - 2), (ushort)checksum);
        return info;
    }

    /// <summary>
    /// PKCS#1 v1.5 through .NET's RSA (OpenSSL): a 4096-bit public operation there costs a small fraction of
    /// BouncyCastle's managed BigInteger arithmetic, and every item of every submission pays it per RSA recipient.
    /// </summary>
    private static byte[] Rsa(RecipientKey recipient, byte[] sessionInfo) => PacketFraming.Mpi(recipient.EncryptWithRsa(sessionInfo));

    private static byte[] Ecdh(RecipientKey recipient, byte[] sessionInfo, SecureRandom random)
    {
        var key = recipient.EncryptionKey;
        var ecdh = (ECDHPublicBcpgKey)key.PublicKeyPacket.Key;
        byte[] ephemeralPoint;
        byte[] sharedSecret;
        if (ecdh.CurveOid.Equals(KeyDescriptions.Curve25519))
        {
            // The point is 0x40 followed by the native 32-byte u-coordinate.
            var recipientPoint = ecdh.EncodedPoint.ToByteArrayUnsigned();
            if (recipientPoint.Length != 33 || recipientPoint[0] != 0x40)
            {
                throw new InvalidOperationException("malformed Curve25519 public key");
            }

            (ephemeralPoint, sharedSecret) = X25519Agreement(recipientPoint.AsSpan(1), random);
        }
        else
        {
            var recipientPoint = (ECPublicKeyParameters)recipient.EncryptionKeyParameters;
            var generator = new ECKeyPairGenerator();
            generator.Init(new ECKeyGenerationParameters(recipientPoint.Parameters, random));
            var pair = generator.GenerateKeyPair();
            var shared = recipientPoint.Q.Multiply(((ECPrivateKeyParameters)pair.Private).D).Normalize();
            sharedSecret = shared.AffineXCoord.GetEncoded();
            ephemeralPoint = ((ECPublicKeyParameters)pair.Public).Q.GetEncoded(false);
        }

        var keyEncryptionKey = KeyEncryptionKey(recipient, ecdh, sharedSecret);
        var padded = Pkcs5Pad(sessionInfo);
        byte[] wrapped;
        try
        {
            var wrap = new Rfc3394WrapEngine(new AesEngine());
            wrap.Init(true, new KeyParameter(keyEncryptionKey));
            wrapped = wrap.Wrap(padded, 0, padded.Length);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(sharedSecret);
            CryptographicOperations.ZeroMemory(keyEncryptionKey);
            CryptographicOperations.ZeroMemory(padded);
        }

        var point = PacketFraming.Mpi(ephemeralPoint);
        return [.. point, (byte)wrapped.Length, .. wrapped];
    }

    /// <summary>
    /// RFC 6637 section 7: the KDF's hash over 00 00 00 01, the shared secret and the recipient's keying material, cut to
    /// the key-wrap algorithm's key size. BouncyCastle's Rfc6637Utilities.CreateKey does the same but recomputes the
    /// keying material, with the key's fingerprint, for every item.
    /// </summary>
    private static byte[] KeyEncryptionKey(RecipientKey recipient, ECDHPublicBcpgKey ecdh, byte[] sharedSecret)
    {
        var hash = ecdh.HashAlgorithm switch
        {
            HashAlgorithmTag.Sha256 => HashAlgorithmName.SHA256,
            HashAlgorithmTag.Sha384 => HashAlgorithmName.SHA384,
            HashAlgorithmTag.Sha512 => HashAlgorithmName.SHA512,
            var other => throw new InvalidOperationException($"unsupported ECDH KDF hash {other}"),
        };
        var keyBytes = ecdh.SymmetricKeyAlgorithm switch
        {
            SymmetricKeyAlgorithmTag.Aes128 => 16,
            SymmetricKeyAlgorithmTag.Aes192 => 24,
            SymmetricKeyAlgorithmTag.Aes256 => 32,
            var other => throw new InvalidOperationException($"unsupported ECDH key wrap algorithm {other}"),
        };
        using var kdf = IncrementalHash.CreateHash(hash);
        kdf.AppendData([0, 0, 0, 1]);
        kdf.AppendData(sharedSecret);
        kdf.AppendData(recipient.EcdhKeyingMaterial);
        var digest = kdf.GetHashAndReset();
        try
        {
            return digest[..keyBytes];
        }
        finally
        {
            CryptographicOperations.ZeroMemory(digest);
        }
    }

    /// <summary>A fresh ephemeral key's point (0x40 and the u-coordinate) and its shared secret with the recipient's key.</summary>
    private static (byte[] EphemeralPoint, byte[] SharedSecret) X25519Agreement(ReadOnlySpan<byte> recipientKey, SecureRandom random)
    {
        var sharedSecret = new byte[X25519PrivateKeyParameters.SecretSize];
        if (!OpenSslX25519.IsAvailable)
        {
            var ephemeral = new X25519PrivateKeyParameters(random);
            ephemeral.GenerateSecret(new X25519PublicKeyParameters(recipientKey), sharedSecret, 0);
            return ([0x40, .. ephemeral.GeneratePublicKey().GetEncoded()], sharedSecret);
        }

        Span<byte> ephemeralPrivate = stackalloc byte[OpenSslX25519.KeyBytes];
        var ephemeralPoint = new byte[1 + OpenSslX25519.KeyBytes];
        ephemeralPoint[0] = 0x40;
        try
        {
            random.NextBytes(ephemeralPrivate);
            OpenSslX25519.Agree(ephemeralPrivate, recipientKey, ephemeralPoint.AsSpan(1), sharedSecret);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(ephemeralPrivate);
        }

        return (ephemeralPoint, sharedSecret);
    }

    /// <summary>RFC 6637 section 8: pad to a multiple of 8 octets, each pad octet holding the pad length.</summary>
    private static byte[] Pkcs5Pad(byte[] data)
    {
        var padLength = 8 - (data.Length % 8);
        var padded = new byte[data.Length + padLength];
        data.CopyTo(padded, 0);
        padded.AsSpan(data.Length).Fill((byte)padLength);
        return padded;
    }
}
