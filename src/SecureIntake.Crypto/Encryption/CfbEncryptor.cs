using System.Security.Cryptography;

namespace SecureIntake.Crypto.Encryption;

/// <summary>
/// AES-256 in CFB-128 mode with a zero IV, continued across calls (OpenPGP's SEIPD v1 cipher). Every call
/// but the last must pass whole 16-byte blocks.
///
/// Serial CFB encryption is where a large submission spends its time: OpenSSL's CFB (what .NET's Aes uses)
/// runs at about two thirds of the speed of libgcrypt's, the library GnuPG itself encrypts with. So
/// libgcrypt is used when the machine has it (every Debian system with gnupg does), and .NET's AES
/// otherwise; both give the same bytes, which a test checks.
/// </summary>
internal abstract class CfbEncryptor : IDisposable
{
    protected const int BlockBytes = 16;

    public static CfbEncryptor Create(ReadOnlySpan<byte> key) =>
        Libgcrypt.IsAvailable ? new LibgcryptCfbEncryptor(key) : new PlatformCfbEncryptor(key);

    public abstract void Encrypt(ReadOnlySpan<byte> plaintext, Span<byte> ciphertext);

    public abstract void Dispose();
}

/// <summary>.NET's AES (OpenSSL underneath), chained by carrying the last ciphertext block as the next IV.</summary>
internal sealed class PlatformCfbEncryptor : CfbEncryptor
{
    private readonly Aes _aes = Aes.Create();
    private readonly byte[] _iv = new byte[BlockBytes];

    public PlatformCfbEncryptor(ReadOnlySpan<byte> key)
    {
        var copy = key.ToArray();
        _aes.Key = copy; // Aes keeps its own copy
        CryptographicOperations.ZeroMemory(copy);
    }

    public override void Encrypt(ReadOnlySpan<byte> plaintext, Span<byte> ciphertext)
    {
        var whole = plaintext.Length / BlockBytes * BlockBytes;
        if (whole > 0)
        {
            _aes.EncryptCfb(plaintext[..whole], _iv, ciphertext, PaddingMode.None, 128);
            ciphertext.Slice(whole - BlockBytes, BlockBytes).CopyTo(_iv);
        }

        var tail = plaintext.Length - whole;
        if (tail > 0)
        {
            // CFB output for a short last block is the prefix of the output for the zero-padded block.
            Span<byte> block = stackalloc byte[BlockBytes];
            Span<byte> cipher = stackalloc byte[BlockBytes];
            plaintext[whole..].CopyTo(block);
            _aes.EncryptCfb(block, _iv, cipher, PaddingMode.None, 128);
            cipher[..tail].CopyTo(ciphertext[whole..]);
        }
    }

    public override void Dispose()
    {
        _aes.Dispose();
        CryptographicOperations.ZeroMemory(_iv);
    }
}

internal sealed class LibgcryptCfbEncryptor : CfbEncryptor
{
    private readonly Libgcrypt.CipherHandle _handle;

    public LibgcryptCfbEncryptor(ReadOnlySpan<byte> key)
    {
        _handle = Libgcrypt.OpenAes256Cfb();
        Libgcrypt.SetKey(_handle, key);
        Libgcrypt.SetIv(_handle, stackalloc byte[BlockBytes]);
    }

    public override void Encrypt(ReadOnlySpan<byte> plaintext, Span<byte> ciphertext) =>
        Libgcrypt.Encrypt(_handle, plaintext, ciphertext[..plaintext.Length]);

    // Closing the handle has libgcrypt wipe the key schedule.
    public override void Dispose() => _handle.Dispose();
}
