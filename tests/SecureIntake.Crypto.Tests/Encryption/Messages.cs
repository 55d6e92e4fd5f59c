using SecureIntake.Crypto.Decryption;
using SecureIntake.Crypto.Encryption;
using SecureIntake.Crypto.Keys;

namespace SecureIntake.Crypto.Tests.Encryption;

internal static class Messages
{
    public static byte[] Plaintext(int size, int seed)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public static async Task<byte[]> EncryptAsync(byte[] plaintext, IEnumerable<RecipientKey> recipients, int writeSize = 8192)
    {
        using var output = new MemoryStream();
        await using (var encrypting = await OpenPgpEncryptingStream.OpenAsync(output, recipients.ToList(), CancellationToken.None))
        {
            for (var offset = 0; offset < plaintext.Length; offset += writeSize)
            {
                await encrypting.WriteAsync(plaintext.AsMemory(offset, Math.Min(writeSize, plaintext.Length - offset)));
            }

            await encrypting.CompleteAsync(CancellationToken.None);
        }

        return output.ToArray();
    }

    public static async Task<byte[]> DecryptAsync(byte[] message, byte[] secretKey, string passphrase = "")
    {
        using var plaintext = new MemoryStream();
        await OpenPgpDecryptor.FromSecretKeys(secretKey, passphrase).DecryptAsync(new MemoryStream(message), plaintext, CancellationToken.None);
        return plaintext.ToArray();
    }
}
