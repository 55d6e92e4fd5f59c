using System.Collections.Concurrent;
using System.Security.Cryptography;
using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;
using Org.BouncyCastle.Crypto;

namespace SecureIntake.Crypto.Keys;

/// <summary>
/// A recipient's certificate that passed every check, with the (sub)key that will be encrypted to.
/// Only public material: the server never holds an editor's private key.
/// </summary>
public sealed class RecipientKey
{
    internal RecipientKey(PgpPublicKeyRing certificate, PgpPublicKey encryptionKey, IReadOnlyList<string> userIds, DateTimeOffset? expires)
    {
        Certificate = certificate;
        EncryptionKey = encryptionKey;
        UserIds = userIds;
        EncryptionKeyExpires = expires;
        Fingerprint = KeyDescriptions.Fingerprint(certificate.GetPublicKey());
        EncryptionKeyFingerprint = KeyDescriptions.Fingerprint(encryptionKey);
        Algorithm = KeyDescriptions.Algorithm(encryptionKey);
    }

    /// <summary>Fingerprint of the primary key, upper-case hex: the recipient's identity.</summary>
    public string Fingerprint { get; }

    public IReadOnlyList<string> UserIds { get; }

    /// <summary>Fingerprint of the (sub)key the session key is encrypted to.</summary>
    public string EncryptionKeyFingerprint { get; }

    /// <summary>Algorithm of the encryption (sub)key, e.g. "RSA 4096" or "ECDH Curve25519".</summary>
    public string Algorithm { get; }

    public DateTimeOffset EncryptionKeyCreated => new(EncryptionKey.CreationTime, TimeSpan.Zero);

    /// <summary>When the encryption (sub)key stops being usable, or null if it never expires.</summary>
    public DateTimeOffset? EncryptionKeyExpires { get; }

    internal PgpPublicKeyRing Certificate { get; }

    internal PgpPublicKey EncryptionKey { get; }

    /// <summary>The encryption key's parameters (for NIST-curve ECDH), made once rather than per message.</summary>
    internal AsymmetricKeyParameter EncryptionKeyParameters => _encryptionKeyParameters ??= EncryptionKey.GetKey();

    private AsymmetricKeyParameter? _encryptionKeyParameters;

    // Imported RSA keys, one per thread that needs one at once: .NET does not promise that one RSA object is thread-safe,
    // and a lock around one had the encrypting threads spinning on it for a seventh of their time.
    private readonly ConcurrentBag<RSA> _rsaKeys = [];

    /// <summary>
    /// PKCS#1 v1.5 encryption to the RSA encryption key through OpenSSL. The key is imported once per certificate (and
    /// thread at once), not per item: importing costs more than the encryption itself. The native handles live as long
    /// as this key, freed by their SafeHandles once the key is collected.
    /// </summary>
    internal byte[] EncryptWithRsa(byte[] data)
    {
        if (!_rsaKeys.TryTake(out var rsa))
        {
            var key = (RsaPublicBcpgKey)EncryptionKey.PublicKeyPacket.Key;
            rsa = RSA.Create(new RSAParameters
            {
                Modulus = key.Modulus.ToByteArrayUnsigned(),
                Exponent = key.PublicExponent.ToByteArrayUnsigned(),
            });
        }

        try
        {
            return rsa.Encrypt(data, RSAEncryptionPadding.Pkcs1);
        }
        finally
        {
            _rsaKeys.Add(rsa);
        }
    }

    /// <summary>The RFC 6637 key derivation's "Param" for this ECDH key (curve, algorithms, fingerprint), made once.</summary>
    internal byte[] EcdhKeyingMaterial => _ecdhKeyingMaterial ??= Rfc6637Utilities.CreateUserKeyingMaterial(EncryptionKey.PublicKeyPacket);

    private byte[]? _ecdhKeyingMaterial;

    /// <summary>The certificate as binary OpenPGP, for storage; <see cref="RecipientKeyReader"/> reads it back.</summary>
    public byte[] GetEncoded() => Certificate.GetEncoded();
}
