using SecureIntake.Crypto.Keys;

namespace SecureIntake.Core.Recipients;

/// <summary>A recipient certificate as stored for a desk, with the verdict on it at the time it was read.</summary>
public sealed record StoredRecipient(string Desk, string Fingerprint, DateTimeOffset AddedAt, KeyVerdict Verdict);
