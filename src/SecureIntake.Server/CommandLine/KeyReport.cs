using SecureIntake.Crypto.Keys;

namespace SecureIntake.Server.CommandLine;

/// <summary>The plain-text verdict on keys that `keys check`, `keys add` and `keys list` print.</summary>
internal static class KeyReport
{
    public static void Write(TextWriter output, IReadOnlyList<KeyVerdict> verdicts, DateTimeOffset now, string indent = "")
    {
        foreach (var verdict in verdicts)
        {
            if (verdict.Key is not { } key)
            {
                output.WriteLine($"{indent}REFUSED {verdict.Fingerprint}: {verdict.RefusalReason}");
                continue;
            }

            output.WriteLine($"{indent}OK {key.Fingerprint}");
            foreach (var userId in key.UserIds)
            {
                output.WriteLine($"{indent}  user ID:     {userId}");
            }

            output.WriteLine($"{indent}  encrypt to:  {key.EncryptionKeyFingerprint} ({key.Algorithm})");
            output.WriteLine($"{indent}  created:     {key.EncryptionKeyCreated:yyyy-MM-dd}");
            output.WriteLine($"{indent}  expires:     {Expiry(key, now)}");
        }
    }

    private static string Expiry(RecipientKey key, DateTimeOffset now)
    {
        if (key.EncryptionKeyExpires is not { } expires)
        {
            return "never";
        }

        var days = (int)Math.Floor((expires - now).TotalDays);
        return KeyExpiry.Near(key, now) is not null
            ? $"{expires:yyyy-MM-dd} (WARNING: in {days} days; ask the key's owner to extend it)"
            : $"{expires:yyyy-MM-dd}";
    }
}
