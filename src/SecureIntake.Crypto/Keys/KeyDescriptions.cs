using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace SecureIntake.Crypto.Keys;

/// <summary>Human-readable names for keys, and which algorithms we are willing to encrypt to.</summary>
internal static class KeyDescriptions
{
    internal const int MinimumRsaBits = 2048;

    internal static readonly DerObjectIdentifier Curve25519 = new("1.3.6.1.4.1.3029.1.5.1");
    internal static readonly DerObjectIdentifier NistP256 = new("1.2.840.10045.3.1.7");
    internal static readonly DerObjectIdentifier NistP384 = new("1.3.132.0.34");
    internal static readonly DerObjectIdentifier NistP521 = new("1.3.132.0.35");

    public static string Fingerprint(PgpPublicKey key) => Convert.ToHexString(key.GetFingerprint());

    public static string Algorithm(PgpPublicKey key) => key.Algorithm switch
    {
        PublicKeyAlgorithmTag.RsaGeneral or PublicKeyAlgorithmTag.RsaEncrypt or PublicKeyAlgorithmTag.RsaSign => $"RSA {key.BitStrength}",
        PublicKeyAlgorithmTag.ECDH => $"ECDH {CurveName(key)}",
        PublicKeyAlgorithmTag.ECDsa => $"ECDSA {CurveName(key)}",
        PublicKeyAlgorithmTag.EdDsa_Legacy => "EdDSA",
        PublicKeyAlgorithmTag.ElGamalEncrypt or PublicKeyAlgorithmTag.ElGamalGeneral => $"ElGamal {key.BitStrength}",
        PublicKeyAlgorithmTag.Dsa => $"DSA {key.BitStrength}",
        var other => $"algorithm {(int)other}",
    };

    /// <summary>Can this algorithm encrypt at all (used when a signature carries no key flags, as GnuPG does)?</summary>
    public static bool CanEncrypt(PgpPublicKey key) => key.Algorithm is
        PublicKeyAlgorithmTag.RsaGeneral or PublicKeyAlgorithmTag.RsaEncrypt or PublicKeyAlgorithmTag.ECDH
        or PublicKeyAlgorithmTag.ElGamalEncrypt or PublicKeyAlgorithmTag.ElGamalGeneral;

    /// <summary>Why we will not encrypt to this (sub)key, or null when it is strong enough and supported.</summary>
    public static string? WhyUnsupported(PgpPublicKey key)
    {
        switch (key.Algorithm)
        {
            case PublicKeyAlgorithmTag.RsaGeneral or PublicKeyAlgorithmTag.RsaEncrypt:
                return key.BitStrength < MinimumRsaBits
                    ? $"its RSA encryption key has {key.BitStrength} bits, too weak (at least {MinimumRsaBits} are required)"
                    : null;
            case PublicKeyAlgorithmTag.ECDH:
                var ecdh = (ECDHPublicBcpgKey)key.PublicKeyPacket.Key;
                if (!IsSupportedCurve(ecdh.CurveOid))
                {
                    return $"its ECDH key uses the curve {CurveName(key)}, which is not supported (use Curve25519 or NIST P-256/384/521)";
                }

                if (ecdh.HashAlgorithm is not (HashAlgorithmTag.Sha256 or HashAlgorithmTag.Sha384 or HashAlgorithmTag.Sha512)
                    || ecdh.SymmetricKeyAlgorithm is not (SymmetricKeyAlgorithmTag.Aes128 or SymmetricKeyAlgorithmTag.Aes192 or SymmetricKeyAlgorithmTag.Aes256))
                {
                    return "its ECDH key asks for KDF parameters other than SHA-2 with AES key wrap";
                }

                return null;
            case PublicKeyAlgorithmTag.ElGamalEncrypt or PublicKeyAlgorithmTag.ElGamalGeneral:
                return "its encryption key is ElGamal, which is not supported (use RSA of at least 2048 bits or Curve25519)";
            default:
                return $"its key algorithm ({Algorithm(key)}) cannot encrypt";
        }
    }

    private static bool IsSupportedCurve(DerObjectIdentifier oid) =>
        oid.Equals(Curve25519) || oid.Equals(NistP256) || oid.Equals(NistP384) || oid.Equals(NistP521);

    private static string CurveName(PgpPublicKey key)
    {
        var oid = ((ECPublicBcpgKey)key.PublicKeyPacket.Key).CurveOid;
        if (oid.Equals(Curve25519))
        {
            return "Curve25519";
        }

        if (oid.Equals(NistP256))
        {
            return "NIST P-256";
        }

        if (oid.Equals(NistP384))
        {
            return "NIST P-384";
        }

        return oid.Equals(NistP521) ? "NIST P-521" : oid.Id;
    }
}
