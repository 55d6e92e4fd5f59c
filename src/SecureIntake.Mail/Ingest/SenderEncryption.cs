using System.Text;
using MimeKit;

namespace SecureIntake.Mail.Ingest;

/// <summary>
/// Whether a sender already encrypted their email with OpenPGP (PGP/MIME or an inline armored message),
/// judged from the start of the raw message. Only a note in the encrypted manifest: the message is kept
/// byte for byte either way, and one that cannot be parsed is simply not marked.
/// </summary>
internal static class SenderEncryption
{
    public const string PgpMime = "sender encrypted it (PGP/MIME)";
    public const string InlinePgp = "sender encrypted it (inline PGP)";

    public static string? Detect(ReadOnlySpan<byte> start)
    {
        try
        {
            using var stream = new MemoryStream(start.ToArray(), writable: false);
            var headers = HeaderList.Load(stream);
            if (headers[HeaderId.ContentType] is { } value && ContentType.TryParse(value, out var type)
                && type.IsMimeType("multipart", "encrypted")
                && string.Equals(type.Parameters["protocol"], "application/pgp-encrypted", StringComparison.OrdinalIgnoreCase))
            {
                return PgpMime;
            }
        }
        catch (FormatException)
        {
            // Malformed headers: kept raw, just not marked.
        }

        return Encoding.Latin1.GetString(start).Contains("-----BEGIN PGP MESSAGE-----", StringComparison.Ordinal) ? InlinePgp : null;
    }
}
