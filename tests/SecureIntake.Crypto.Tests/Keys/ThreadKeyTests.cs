using System.Security.Cryptography;
using System.Text;
using SecureIntake.Crypto.Decryption;
using SecureIntake.Crypto.Keys;
using SecureIntake.Testing;

namespace SecureIntake.Crypto.Tests.Keys;

public sealed class ThreadKeyTests : IDisposable
{
    private readonly GnuPgHome _gpg = new();

    public void Dispose() => _gpg.Dispose();

    [Fact]
    public async Task A_thread_key_is_a_standard_key_gpg_encrypts_to_and_only_its_unlock_key_opens()
    {
        var thread = Guid.NewGuid();
        var unlockKey = RandomNumberGenerator.GetBytes(32);
        var key = ThreadKey.Generate(thread, unlockKey);

        var verdict = RecipientKeyReader.Read(key.Certificate, DateTimeOffset.UtcNow).Single();
        Assert.NotNull(verdict.Key);
        await _gpg.ImportAsync(key.Certificate);
        var encrypted = (await _gpg.RunAsync(["--trust-model", "always", "--compress-algo", "none", "--encrypt", "-r", verdict.Key.Fingerprint], Encoding.UTF8.GetBytes("Вопрос редакции")))
            .EnsureSuccess("gpg --encrypt").Output;

        var secret = ThreadKey.Unseal(key.SealedSecretKey, thread, unlockKey);
        using var plaintext = new MemoryStream();
        await OpenPgpDecryptor.FromSecretKeys(secret, []).DecryptAsync(new MemoryStream(encrypted), plaintext, CancellationToken.None);
        Assert.Equal("Вопрос редакции", Encoding.UTF8.GetString(plaintext.ToArray()));

        Assert.ThrowsAny<CryptographicException>(() => ThreadKey.Unseal(key.SealedSecretKey, thread, RandomNumberGenerator.GetBytes(32)));
        Assert.ThrowsAny<CryptographicException>(() => ThreadKey.Unseal(key.SealedSecretKey, Guid.NewGuid(), unlockKey));
        Assert.Equal(-1, key.SealedSecretKey.AsSpan().IndexOf("SecureIntake thread"u8)); // the sealed key shows nothing of the key ring
    }
}
