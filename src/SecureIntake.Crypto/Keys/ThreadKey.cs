using System.Security.Cryptography;
using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;

namespace SecureIntake.Crypto.Keys;

/// <summary>
/// A witness thread's reply key: an ordinary OpenPGP key (Ed25519 primary, Curve25519 encryption subkey),
/// so editors' replies are ordinary OpenPGP messages, encrypted to it and to the desk's recipients. Its
/// secret half is kept only sealed with AES-256-GCM under the key derived from the witness's codename:
/// without the codename, no one (the server included) can read a reply from what is stored.
/// </summary>
public sealed class ThreadKey
{
    private const int NonceBytes = 12;
    private const int TagBytes = 16;
    private const int UnlockKeyBytes = 32;

    /// <summary>
    /// Every thread key and its signatures carry this creation time: the certificate is stored in the clear,
    /// and its real creation time would say to the second when the witness wrote.
    /// </summary>
    public static readonly DateTime FixedCreationTime = new(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private ThreadKey(byte[] certificate, byte[] sealedSecretKey)
    {
        Certificate = certificate;
        SealedSecretKey = sealedSecretKey;
    }

    /// <summary>The public certificate, to encrypt replies to.</summary>
    public byte[] Certificate { get; }

    /// <summary>Nonce, ciphertext and tag of the unprotected secret key ring; only the unlock key opens it.</summary>
    public byte[] SealedSecretKey { get; }

    /// <summary>
    /// Makes a key for the thread <paramref name="threadId"/>, sealed under <paramref name="unlockKey"/>. The seal
    /// is bound to the thread, so a sealed key copied onto another thread does not open there.
    /// </summary>
    public static ThreadKey Generate(Guid threadId, ReadOnlySpan<byte> unlockKey)
    {
        var random = new SecureRandom();
        var created = FixedCreationTime;

        var signing = new Ed25519KeyPairGenerator();
        signing.Init(new Ed25519KeyGenerationParameters(random));
        var encryption = new X25519KeyPairGenerator();
        encryption.Init(new X25519KeyGenerationParameters(random));
        var primary = new PgpKeyPair(PublicKeyAlgorithmTag.EdDsa_Legacy, signing.GenerateKeyPair(), created);
        var subkey = new PgpKeyPair(PublicKeyAlgorithmTag.ECDH, encryption.GenerateKeyPair(), created);

        var primaryFlags = new PgpSignatureSubpacketGenerator();
        primaryFlags.SetKeyFlags(false, PgpKeyFlags.CanCertify);
        primaryFlags.SetSignatureCreationTime(false, created);
        var subkeyFlags = new PgpSignatureSubpacketGenerator();
        subkeyFlags.SetKeyFlags(false, PgpKeyFlags.CanEncryptCommunications | PgpKeyFlags.CanEncryptStorage);
        subkeyFlags.SetSignatureCreationTime(false, created);

        var rings = new PgpKeyRingGenerator(PgpSignature.PositiveCertification, primary, $"SecureIntake thread {threadId}",
            SymmetricKeyAlgorithmTag.Null, HashAlgorithmTag.Sha256, (char[]?)null, false, primaryFlags.Generate(), null, random);
        rings.AddSubKey(subkey, subkeyFlags.Generate(), null, HashAlgorithmTag.Sha256);

        var secret = rings.GenerateSecretKeyRing().GetEncoded();
        try
        {
            return new ThreadKey(rings.GeneratePublicKeyRing().GetEncoded(), Seal(secret, threadId, unlockKey));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    /// <summary>
    /// The secret key ring, for <see cref="Decryption.OpenPgpDecryptor.FromSecretKeys"/>; the caller wipes it.
    /// Throws <see cref="CryptographicException"/> when the unlock key or the thread is not the one it was sealed for.
    /// </summary>
    public static byte[] Unseal(ReadOnlySpan<byte> sealedSecretKey, Guid threadId, ReadOnlySpan<byte> unlockKey)
    {
        if (unlockKey.Length != UnlockKeyBytes || sealedSecretKey.Length <= NonceBytes + TagBytes)
        {
            throw new CryptographicException("the sealed thread key or its unlock key is malformed");
        }

        var ciphertext = sealedSecretKey[NonceBytes..^TagBytes];
        var secret = new byte[ciphertext.Length];
        using var aes = new AesGcm(unlockKey, TagBytes);
        aes.Decrypt(sealedSecretKey[..NonceBytes], ciphertext, sealedSecretKey[^TagBytes..], secret, threadId.ToByteArray(bigEndian: true));
        return secret;
    }

    private static byte[] Seal(ReadOnlySpan<byte> secret, Guid threadId, ReadOnlySpan<byte> unlockKey)
    {
        if (unlockKey.Length != UnlockKeyBytes)
        {
            throw new ArgumentException($"an unlock key is {UnlockKeyBytes} bytes", nameof(unlockKey));
        }

        var sealedKey = new byte[NonceBytes + secret.Length + TagBytes];
        var sealing = sealedKey.AsSpan();
        RandomNumberGenerator.Fill(sealing[..NonceBytes]);
        using var aes = new AesGcm(unlockKey, TagBytes);
        aes.Encrypt(sealing[..NonceBytes], secret, sealing[NonceBytes..^TagBytes], sealing[^TagBytes..], threadId.ToByteArray(bigEndian: true));
        return sealedKey;
    }
}
