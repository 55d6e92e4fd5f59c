using Org.BouncyCastle.Bcpg.OpenPgp;

namespace SecureIntake.Crypto.Grants;

/// <summary>Which key ids a certificate holds, to name the owner of a key packet (which carries only a key id).</summary>
public static class CertificateKeyIds
{
    /// <summary>The key ids of the primary key and every subkey; empty when the bytes are not a certificate.</summary>
    public static IReadOnlyList<long> Of(byte[] certificate)
    {
        try
        {
            using var decoded = PgpUtilities.GetDecoderStream(new MemoryStream(certificate, writable: false));
            return [.. new PgpPublicKeyRing(decoded).GetPublicKeys().Select(k => k.KeyId)];
        }
        catch (Exception e) when (e is IOException or PgpException or ArgumentException or InvalidOperationException)
        {
            return [];
        }
    }
}
