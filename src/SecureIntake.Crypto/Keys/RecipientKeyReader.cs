using System.Text;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace SecureIntake.Crypto.Keys;

/// <summary>Reads recipients' public keys (armored or binary, one or many per file) and judges each one.</summary>
public static class RecipientKeyReader
{
    /// <summary>Key files are small; anything larger is refused before parsing.</summary>
    public const int MaximumKeyFileBytes = 4 * 1024 * 1024;

    private const string ArmorBegin = "-----BEGIN PGP ";

    public static IReadOnlyList<KeyVerdict> Read(ReadOnlySpan<byte> keyData, DateTimeOffset now)
    {
        if (keyData.Length > MaximumKeyFileBytes)
        {
            throw new KeyFileException($"the key file is larger than {MaximumKeyFileBytes / (1024 * 1024)} MiB");
        }

        var verdicts = new List<KeyVerdict>();
        foreach (var block in Blocks(keyData))
        {
            foreach (var certificate in Certificates(block))
            {
                verdicts.Add(EncryptionKeySelector.Evaluate(certificate, now) with { Certificate = certificate.GetEncoded() });
            }
        }

        return verdicts.Count == 0 ? throw new KeyFileException("no OpenPGP public key was found in the key file") : verdicts;
    }

    public static async Task<IReadOnlyList<KeyVerdict>> ReadFileAsync(string path, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new KeyFileException($"the key file '{path}' does not exist");
        }

        if (info.Length > MaximumKeyFileBytes)
        {
            throw new KeyFileException($"the key file is larger than {MaximumKeyFileBytes / (1024 * 1024)} MiB");
        }

        return Read(await File.ReadAllBytesAsync(path, cancellationToken), now);
    }

    /// <summary>
    /// One certificate with every packet of both copies, so that re-importing an older copy can never drop a
    /// revocation or a shortened expiry that the stored copy has.
    /// </summary>
    public static byte[] Merge(ReadOnlySpan<byte> stored, ReadOnlySpan<byte> incoming)
    {
        var first = Certificates(stored.ToArray()).Single();
        var second = Certificates(incoming.ToArray()).Single();
        if (!first.GetPublicKey().GetFingerprint().AsSpan().SequenceEqual(second.GetPublicKey().GetFingerprint()))
        {
            throw new KeyFileException("cannot merge two different keys");
        }

        return PgpPublicKeyRing.Join(first, second)?.GetEncoded() ?? throw new KeyFileException("the two copies of the key cannot be merged");
    }

    /// <summary>Splits armored input into its blocks (ArmoredInputStream reads one only); binary input is one block.</summary>
    private static List<byte[]> Blocks(ReadOnlySpan<byte> keyData)
    {
        // Binary OpenPGP starts with a packet tag, whose high bit is always set; text never does.
        if (!keyData.IsEmpty && (keyData[0] & 0x80) != 0)
        {
            return [keyData.ToArray()];
        }

        var text = Encoding.ASCII.GetString(keyData);
        var start = text.IndexOf(ArmorBegin, StringComparison.Ordinal);
        if (start < 0)
        {
            return [keyData.ToArray()];
        }

        var blocks = new List<byte[]>();
        while (start >= 0)
        {
            var next = text.IndexOf(ArmorBegin, start + ArmorBegin.Length, StringComparison.Ordinal);
            // The END line also begins with "-----", so search for the next BEGIN only.
            var block = next < 0 ? text[start..] : text[start..next];
            if (block.StartsWith("-----BEGIN PGP PRIVATE KEY BLOCK-----", StringComparison.Ordinal))
            {
                throw PrivateKeyRefused();
            }

            blocks.Add(Encoding.ASCII.GetBytes(block));
            start = next;
        }

        return blocks;
    }

    private static List<PgpPublicKeyRing> Certificates(byte[] block)
    {
        var certificates = new List<PgpPublicKeyRing>();
        try
        {
            using var decoded = PgpUtilities.GetDecoderStream(new MemoryStream(block, writable: false));
            var factory = new PgpObjectFactory(decoded);
            while (factory.NextPgpObject() is { } item)
            {
                switch (item)
                {
                    case PgpPublicKeyRing ring:
                        certificates.Add(ring);
                        break;
                    case PgpSecretKeyRing:
                        throw PrivateKeyRefused();
                    default:
                        // Marker, trust and stray signature packets carry nothing we need.
                        break;
                }
            }
        }
        catch (Exception e) when (e is IOException or PgpException or ArgumentException or InvalidOperationException or NotSupportedException or FormatException)
        {
            throw new KeyFileException($"the key file is not readable OpenPGP key data ({e.Message})", e);
        }

        return certificates;
    }

    private static KeyFileException PrivateKeyRefused() =>
        new("the key file holds a PRIVATE key; the server must only ever get public keys (export with `gpg --export --armor FINGERPRINT`)");
}
