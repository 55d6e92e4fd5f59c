using MimeKit;

namespace SecureIntake.Desk;

/// <summary>
/// Whether a witness already encrypted their email with OpenPGP (PGP/MIME or an inline armored message), judged
/// from the start of the decrypted email. The mail gateway used to note this in a batch manifest; emails now come
/// without one, so the same rules, and the same words, are applied here once the email is readable.
/// </summary>
internal static class SenderEncryption
{
    public const string PgpMime = "sender encrypted it (PGP/MIME)";
    public const string InlinePgp = "sender encrypted it (inline PGP)";

    /// <summary>As far as the gateway looked, so that emails pulled now are marked as those it marked before.</summary>
    private const int InspectedBytes = 64 * 1024;

    /// <summary>Reads the start of the email file into memory only, and returns its note, or null.</summary>
    public static async Task<string?> DetectAsync(string emailFile, CancellationToken cancellationToken)
    {
        var start = new byte[InspectedBytes];
        int length;
        await using (var file = File.OpenRead(emailFile))
        {
            length = await file.ReadAtLeastAsync(start, start.Length, throwOnEndOfStream: false, cancellationToken);
        }

        return Detect(start, length);
    }

    public static string? Detect(byte[] start, int length)
    {
        if (ReadHeaders(start, length)?[HeaderId.ContentType] is { } value && ContentType.TryParse(value, out var type)
            && type.IsMimeType("multipart", "encrypted")
            && string.Equals(type.Parameters["protocol"], "application/pgp-encrypted", StringComparison.OrdinalIgnoreCase))
        {
            return PgpMime;
        }

        // Searched as bytes: the armor line is ASCII whatever the message's charset.
        return start.AsSpan(0, length).IndexOf("-----BEGIN PGP MESSAGE-----"u8) >= 0 ? InlinePgp : null;
    }

    /// <summary>The headers as MimeKit reads them, or null when they are malformed (such an email is just not marked PGP/MIME).</summary>
    private static HeaderList? ReadHeaders(byte[] start, int length)
    {
        // Only the header block is handed to the parser (up to the first empty line, CRLF or bare LF), not the body after it.
        var bytes = start.AsSpan(0, length);
        var end = bytes.IndexOf("\n\r\n"u8) is var crlf and >= 0 ? crlf + 3 : length;
        end = Math.Min(end, bytes.IndexOf("\n\n"u8) is var lf and >= 0 ? lf + 2 : length);
        try
        {
            using var stream = new MemoryStream(start, 0, end, writable: false);
            return HeaderList.Load(stream);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
