using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace SecureIntake.Crypto.Encryption;

/// <summary>
/// X25519 through OpenSSL's libcrypto (libcrypto.so.3, the library .NET's own cryptography uses on Linux). Every item
/// encrypted to a Curve25519 recipient costs two scalar multiplications (the ephemeral key and the shared secret);
/// OpenSSL's assembly does them several times faster than BouncyCastle's managed code, and mail arrives by the thousand.
/// The ephemeral private key is still drawn from our own random source; OpenSSL only multiplies. Used only after a
/// known-answer test (RFC 7748, section 6.1) passes; otherwise <see cref="IsAvailable"/> is false and BouncyCastle does it.
/// </summary>
internal static partial class OpenSslX25519
{
    public const int KeyBytes = 32;

    private const string Library = "libcrypto.so.3";
    private const int NidX25519 = 1034;

    private static readonly Lazy<bool> Available = new(PassesKnownAnswerTest);

    public static bool IsAvailable => Available.Value;

    /// <summary>The public key of <paramref name="privateKey"/> and its shared secret with <paramref name="peerPublicKey"/>.</summary>
    /// <exception cref="CryptographicException">OpenSSL refused, e.g. a peer key of small order (an all-zero secret).</exception>
    public static void Agree(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> peerPublicKey, Span<byte> publicKey, Span<byte> sharedSecret)
    {
        if (privateKey.Length != KeyBytes || peerPublicKey.Length != KeyBytes || publicKey.Length != KeyBytes || sharedSecret.Length != KeyBytes)
        {
            throw new ArgumentException("X25519 keys and secrets are 32 bytes");
        }

        var own = IntPtr.Zero;
        var peer = IntPtr.Zero;
        var context = IntPtr.Zero;
        try
        {
            own = Check(EVP_PKEY_new_raw_private_key(NidX25519, IntPtr.Zero, privateKey, KeyBytes), "EVP_PKEY_new_raw_private_key");
            peer = Check(EVP_PKEY_new_raw_public_key(NidX25519, IntPtr.Zero, peerPublicKey, KeyBytes), "EVP_PKEY_new_raw_public_key");
            var length = (nuint)KeyBytes;
            Check(EVP_PKEY_get_raw_public_key(own, publicKey, ref length) == 1 && length == KeyBytes, "EVP_PKEY_get_raw_public_key");
            context = Check(EVP_PKEY_CTX_new(own, IntPtr.Zero), "EVP_PKEY_CTX_new");
            Check(EVP_PKEY_derive_init(context) == 1, "EVP_PKEY_derive_init");
            Check(EVP_PKEY_derive_set_peer(context, peer) == 1, "EVP_PKEY_derive_set_peer");
            length = KeyBytes;
            Check(EVP_PKEY_derive(context, sharedSecret, ref length) == 1 && length == KeyBytes, "EVP_PKEY_derive");
        }
        finally
        {
            // EVP_PKEY_free clears the private key before freeing it.
            EVP_PKEY_CTX_free(context);
            EVP_PKEY_free(peer);
            EVP_PKEY_free(own);
        }
    }

    private static bool PassesKnownAnswerTest()
    {
        try
        {
            Span<byte> publicKey = stackalloc byte[KeyBytes];
            Span<byte> secret = stackalloc byte[KeyBytes];
            Agree(Convert.FromHexString("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"),
                Convert.FromHexString("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"), publicKey, secret);
            return publicKey.SequenceEqual(Convert.FromHexString("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"))
                && secret.SequenceEqual(Convert.FromHexString("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"));
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException or MarshalDirectiveException
            or CryptographicException)
        {
            return false;
        }
    }

    private static IntPtr Check(IntPtr handle, string call) => handle != IntPtr.Zero ? handle : throw new CryptographicException($"{call} failed in OpenSSL");

    private static void Check(bool succeeded, string call)
    {
        if (!succeeded)
        {
            throw new CryptographicException($"{call} failed in OpenSSL");
        }
    }

    [LibraryImport(Library)]
    private static partial IntPtr EVP_PKEY_new_raw_private_key(int type, IntPtr engine, ReadOnlySpan<byte> key, nuint length);

    [LibraryImport(Library)]
    private static partial IntPtr EVP_PKEY_new_raw_public_key(int type, IntPtr engine, ReadOnlySpan<byte> key, nuint length);

    [LibraryImport(Library)]
    private static partial int EVP_PKEY_get_raw_public_key(IntPtr key, Span<byte> output, ref nuint length);

    [LibraryImport(Library)]
    private static partial IntPtr EVP_PKEY_CTX_new(IntPtr key, IntPtr engine);

    [LibraryImport(Library)]
    private static partial int EVP_PKEY_derive_init(IntPtr context);

    [LibraryImport(Library)]
    private static partial int EVP_PKEY_derive_set_peer(IntPtr context, IntPtr peer);

    [LibraryImport(Library)]
    private static partial int EVP_PKEY_derive(IntPtr context, Span<byte> secret, ref nuint length);

    [LibraryImport(Library)]
    private static partial void EVP_PKEY_CTX_free(IntPtr context);

    [LibraryImport(Library)]
    private static partial void EVP_PKEY_free(IntPtr key);
}
