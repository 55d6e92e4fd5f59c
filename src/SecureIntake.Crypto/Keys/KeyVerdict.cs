namespace SecureIntake.Crypto.Keys;

/// <summary>What <see cref="RecipientKeyReader"/> decided about one certificate: usable, or refused with a reason.</summary>
public sealed record KeyVerdict(string Fingerprint, RecipientKey? Key, string? RefusalReason)
{
    public bool IsUsable => Key is not null;

    /// <summary>The certificate judged, as binary OpenPGP (public material only).</summary>
    public byte[] Certificate { get; init; } = [];

    internal static KeyVerdict Usable(RecipientKey key) => new(key.Fingerprint, key, null);

    internal static KeyVerdict Refused(string fingerprint, string reason) => new(fingerprint, null, reason);
}
