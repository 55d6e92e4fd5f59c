using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Parameters;
using SecureIntake.Crypto.Encryption;

namespace SecureIntake.Crypto.Tests.Encryption;

public sealed class OpenSslX25519Tests
{
    [Fact]
    public void OpenSsl_is_found_on_this_machine_so_the_fast_path_is_the_one_tested()
    {
        // .NET's cryptography needs libssl3 on Linux; without libcrypto we would silently test only the fallback.
        Assert.True(OpenSslX25519.IsAvailable, "libcrypto.so.3 could not be loaded or failed the RFC 7748 known-answer test");
    }

    [Fact]
    public void OpenSsl_and_BouncyCastle_agree_on_the_public_key_and_the_shared_secret()
    {
        for (var i = 0; i < 50; i++)
        {
            var ephemeral = RandomNumberGenerator.GetBytes(OpenSslX25519.KeyBytes);
            var recipient = new X25519PrivateKeyParameters(new Org.BouncyCastle.Security.SecureRandom()).GeneratePublicKey().GetEncoded();
            var publicKey = new byte[OpenSslX25519.KeyBytes];
            var secret = new byte[OpenSslX25519.KeyBytes];

            OpenSslX25519.Agree(ephemeral, recipient, publicKey, secret);

            var bouncyCastle = new X25519PrivateKeyParameters(ephemeral);
            var expectedSecret = new byte[OpenSslX25519.KeyBytes];
            bouncyCastle.GenerateSecret(new X25519PublicKeyParameters(recipient), expectedSecret, 0);
            Assert.Equal(bouncyCastle.GeneratePublicKey().GetEncoded(), publicKey);
            Assert.Equal(expectedSecret, secret);
        }
    }

    [Fact]
    public void A_peer_key_of_small_order_is_refused_rather_than_giving_an_all_zero_secret()
    {
        var publicKey = new byte[OpenSslX25519.KeyBytes];
        var secret = new byte[OpenSslX25519.KeyBytes];

        Assert.Throws<CryptographicException>(() => OpenSslX25519.Agree(RandomNumberGenerator.GetBytes(32), new byte[32], publicKey, secret));
    }
}
