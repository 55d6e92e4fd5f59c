using System.Runtime.InteropServices;

namespace SecureIntake.Crypto.Encryption;

/// <summary>The few libgcrypt calls AES-256-CFB needs (libgcrypt.so.20, the library GnuPG uses).</summary>
internal static partial class Libgcrypt
{
    private const string Library = "libgcrypt.so.20";
    private const int CipherAes256 = 9;
    private const int ModeCfb = 2;
    private const int ControlDisableSecureMemory = 37;
    private const int ControlInitializationFinished = 38;

    private static readonly Lazy<bool> Available = new(Initialize);

    public static bool IsAvailable => Available.Value;

    public static CipherHandle OpenAes256Cfb()
    {
        Check(gcry_cipher_open(out var handle, CipherAes256, ModeCfb, 0), "gcry_cipher_open");
        return handle;
    }

    public static void SetKey(CipherHandle handle, ReadOnlySpan<byte> key) => Check(gcry_cipher_setkey(handle, key, (nuint)key.Length), "gcry_cipher_setkey");

    public static void SetIv(CipherHandle handle, ReadOnlySpan<byte> iv) => Check(gcry_cipher_setiv(handle, iv, (nuint)iv.Length), "gcry_cipher_setiv");

    public static void Encrypt(CipherHandle handle, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext) =>
        Check(gcry_cipher_encrypt(handle, ciphertext, (nuint)ciphertext.Length, plaintext, (nuint)plaintext.Length), "gcry_cipher_encrypt");

    private static bool Initialize()
    {
        try
        {
            if (gcry_check_version(null) == IntPtr.Zero)
            {
                return false;
            }

            // We keep no secrets in libgcrypt's locked pool (the key lives in the cipher handle only for one
            // message); initialisation must still be declared finished or libgcrypt warns on stderr.
            _ = gcry_control(ControlDisableSecureMemory, 0);
            _ = gcry_control(ControlInitializationFinished, 0);
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException or MarshalDirectiveException)
        {
            return false;
        }
    }

    private static void Check(uint error, string call)
    {
        if (error != 0)
        {
            throw new CryptographicOperationException($"{call} failed (libgcrypt error {error})");
        }
    }

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr gcry_check_version(string? required);

    // Variadic in C; with integer arguments only, the x86-64 and AArch64 calling conventions agree with a fixed signature.
    [LibraryImport(Library)]
    private static partial uint gcry_control(int command, int argument);

    [LibraryImport(Library)]
    private static partial uint gcry_cipher_open(out CipherHandle handle, int algorithm, int mode, uint flags);

    [LibraryImport(Library)]
    private static partial uint gcry_cipher_setkey(CipherHandle handle, ReadOnlySpan<byte> key, nuint length);

    [LibraryImport(Library)]
    private static partial uint gcry_cipher_setiv(CipherHandle handle, ReadOnlySpan<byte> iv, nuint length);

    [LibraryImport(Library)]
    private static partial uint gcry_cipher_encrypt(CipherHandle handle, Span<byte> output, nuint outputLength, ReadOnlySpan<byte> input, nuint inputLength);

    [LibraryImport(Library)]
    private static partial void gcry_cipher_close(IntPtr handle);

    internal sealed class CipherHandle : SafeHandle
    {
        public CipherHandle()
            : base(IntPtr.Zero, ownsHandle: true)
        {
        }

        public override bool IsInvalid => handle == IntPtr.Zero;

        protected override bool ReleaseHandle()
        {
            gcry_cipher_close(handle);
            return true;
        }
    }
}

public sealed class CryptographicOperationException(string message) : Exception(message);
