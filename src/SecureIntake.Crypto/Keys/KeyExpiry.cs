namespace SecureIntake.Crypto.Keys;

/// <summary>
/// When to warn that a recipient key is about to stop encrypting: intake to its desk stops the day it expires, and
/// its owner needs weeks to extend the key and send it back. The service's daily check, the CLI and the desk's
/// admin page all ask here, so they warn about the same keys.
/// </summary>
public static class KeyExpiry
{
    public static readonly TimeSpan WarningPeriod = TimeSpan.FromDays(30);

    /// <summary>
    /// When <paramref name="key"/>'s encryption subkey expires, if that is less than <see cref="WarningPeriod"/> after
    /// <paramref name="now"/> (or already past); null when it never expires or is further off.
    /// </summary>
    public static DateTimeOffset? Near(RecipientKey key, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.EncryptionKeyExpires is { } expires && expires - now < WarningPeriod ? expires : null;
    }
}
