using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using SecureIntake.Core.Codenames;

namespace SecureIntake.Mail.Ingest;

/// <summary>
/// The mail path's keys, derived from the install's pepper (Codenames:Pepper) each under its own label, as the
/// witness form tokens are: they live where the pepper lives, never in the database, so a database, its WAL or a
/// backup cannot confirm that a given email (or a given sender) reached this newsroom.
/// </summary>
public sealed class MailKeys(IOptions<CodenameOptions> codenames)
{
    private static readonly byte[] DigestLabel = "secureintake mail ledger digest v1"u8.ToArray();
    private static readonly byte[] AcknowledgedLabel = "secureintake acknowledged sender v1"u8.ToArray();

    private readonly Lazy<byte[]> _pepper = new(() => Pepper(codenames.Value.Pepper));

    /// <summary>Keys the mail ledger's digest of a raw message (HMAC-SHA256).</summary>
    public byte[] DigestKey => HMACSHA256.HashData(_pepper.Value, DigestLabel);

    /// <summary>Keys the remembered acknowledgement addresses (HMAC-SHA256).</summary>
    public byte[] AcknowledgedKey => HMACSHA256.HashData(_pepper.Value, AcknowledgedLabel);

    internal static bool IsUsable(string? pepper)
    {
        Span<byte> buffer = stackalloc byte[256];
        return Convert.TryFromBase64String(pepper ?? "", buffer, out var written) && written >= 32;
    }

    private static byte[] Pepper(string value) => IsUsable(value)
        ? Convert.FromBase64String(value)
        : throw new InvalidOperationException($"{CodenameOptions.Section}:Pepper is needed by the mail gateway and acknowledgements (at least 32 random bytes, base64)");
}
