using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.Utilities;
using SecureIntake.Crypto.Keys;

namespace SecureIntake.Crypto.Tests.Keys;

public sealed class UnsoundRsaKeyTests
{
    /// <summary>
    /// A correctly signed certificate whose RSA encryption subkey has a prime "modulus": anyone could compute
    /// its private exponent. Encryption goes through OpenSSL, which does not look; key judging must.
    /// </summary>
    [Fact]
    public void An_encryption_key_with_a_prime_rsa_modulus_is_refused_before_anything_is_encrypted_to_it()
    {
        var random = new SecureRandom();
        var prime = BigInteger.ProbablePrime(2048, random);
        var exponent = BigInteger.ValueOf(65537);
        var created = DateTime.UtcNow.AddMinutes(-1);

        var signing = new Ed25519KeyPairGenerator();
        signing.Init(new Ed25519KeyGenerationParameters(random));
        var primary = new PgpKeyPair(PublicKeyAlgorithmTag.EdDsa_Legacy, signing.GenerateKeyPair(), created);

        // BouncyCastle refuses to build such parameters at all unless its Miller-Rabin test is switched off.
        // With a prime n the "private exponent" is simply e^-1 mod (n - 1): the whole point of the refusal.
        var d = exponent.ModInverse(prime.Subtract(BigInteger.One));
        var subkey = Properties.WithThreadProperty(Properties.RsaMaxMRTests, "0", () => new PgpKeyPair(PublicKeyAlgorithmTag.RsaGeneral,
            new AsymmetricCipherKeyPair(new RsaKeyParameters(false, prime, exponent),
                new RsaPrivateCrtKeyParameters(prime, exponent, d, prime, BigInteger.Three, d, d.Mod(BigInteger.Two), prime.ModInverse(BigInteger.Three))), created));

        var primaryFlags = new PgpSignatureSubpacketGenerator();
        primaryFlags.SetKeyFlags(false, PgpKeyFlags.CanCertify | PgpKeyFlags.CanSign);
        var subkeyFlags = new PgpSignatureSubpacketGenerator();
        subkeyFlags.SetKeyFlags(false, PgpKeyFlags.CanEncryptCommunications | PgpKeyFlags.CanEncryptStorage);
        var rings = new PgpKeyRingGenerator(PgpSignature.PositiveCertification, primary, "Unsound <unsound@example.invalid>",
            SymmetricKeyAlgorithmTag.Null, HashAlgorithmTag.Sha256, (char[]?)null, false, primaryFlags.Generate(), null, random);
        rings.AddSubKey(subkey, subkeyFlags.Generate(), null, HashAlgorithmTag.Sha256);

        var verdict = RecipientKeyReader.Read(rings.GeneratePublicKeyRing().GetEncoded(), DateTimeOffset.UtcNow).Single();

        Assert.False(verdict.IsUsable);
        Assert.Contains("RSA modulus is unsound", verdict.RefusalReason, StringComparison.Ordinal);
    }
}
