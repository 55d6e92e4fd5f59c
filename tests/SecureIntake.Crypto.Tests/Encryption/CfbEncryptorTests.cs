using System.Security.Cryptography;
using SecureIntake.Crypto.Encryption;

namespace SecureIntake.Crypto.Tests.Encryption;

public sealed class CfbEncryptorTests
{
    [Fact]
    public void Libgcrypt_is_found_on_this_machine_so_the_fast_path_is_the_one_tested()
    {
        // gnupg depends on libgcrypt20; without it we would silently test only the fallback.
        Assert.True(Libgcrypt.IsAvailable, "libgcrypt.so.20 could not be loaded: apt-get install libgcrypt20");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(65536 + 5)]
    [InlineData((3 * 65536) + 15)]
    public void Libgcrypt_and_platform_aes_give_the_same_ciphertext_across_chained_calls(int length)
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var plaintext = RandomNumberGenerator.GetBytes(length);

        Assert.Equal(EncryptInPieces(new PlatformCfbEncryptor(key), plaintext), EncryptInPieces(new LibgcryptCfbEncryptor(key), plaintext));
    }

    [Fact]
    public async Task Messages_made_with_the_platform_fallback_decrypt_too()
    {
        var (certificate, secret) = await GenerateCurve25519Async();
        var recipient = Crypto.Keys.RecipientKeyReader.Read(certificate, DateTimeOffset.UtcNow).Single().Key!;
        var plaintext = Messages.Plaintext(200_001, 2);
        using var output = new MemoryStream();
        await using (var stream = await OpenPgpEncryptingStream.OpenAsync(output, [recipient], key => new PlatformCfbEncryptor(key), CancellationToken.None))
        {
            await stream.WriteAsync(plaintext);
            await stream.CompleteAsync(CancellationToken.None);
        }

        Assert.Equal(plaintext, await Messages.DecryptAsync(output.ToArray(), secret));
    }

    private static byte[] EncryptInPieces(CfbEncryptor encryptor, byte[] plaintext)
    {
        using (encryptor)
        {
            var ciphertext = new byte[plaintext.Length];
            var offset = 0;
            foreach (var piece in new[] { 16, 48, 65536, 4096 })
            {
                if (plaintext.Length - offset <= piece)
                {
                    break;
                }

                encryptor.Encrypt(plaintext.AsSpan(offset, piece), ciphertext.AsSpan(offset, piece));
                offset += piece;
            }

            encryptor.Encrypt(plaintext.AsSpan(offset), ciphertext.AsSpan(offset));
            return ciphertext;
        }
    }

    private static async Task<(byte[] Certificate, byte[] Secret)> GenerateCurve25519Async()
    {
        using var gpg = new Testing.GnuPgHome();
        var fingerprint = await gpg.GenerateAsync("<fallback@test.invalid>", "ed25519", "cert,sign", "never");
        await gpg.AddSubkeyAsync(fingerprint, "cv25519", "encr", "never");
        return (await gpg.ExportPublicAsync(fingerprint), await gpg.ExportSecretAsync(fingerprint));
    }
}
