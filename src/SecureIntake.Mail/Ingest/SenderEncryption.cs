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

    /// <param name="headers">The message's headers, or null when they could not be parsed (kept raw, just not marked PGP/MIME).</param>
    /// <param name="start">The first bytes of the raw message.</param>
    public static string? Detect(HeaderList? headers, ReadOnlySpan<byte> start)
    {
        if (headers?[HeaderId.ContentType] is { } value && ContentType.TryParse(value, out var type)
            && type.IsMimeType("multipart", "encrypted")
            && string.Equals(type.Parameters["protocol"], "application/pgp-encrypted", StringComparison.OrdinalIgnoreCase))
        {
            return PgpMime;
        }

        // Searched as bytes: the armor line is ASCII whatever the message's charset.
        return start.IndexOf("-----BEGIN PGP MESSAGE-----"u8) >= 0 ? InlinePgp : null;
    }
}
