namespace SecureIntake.Core.Codenames;

/// <summary>
/// What a codename yields, never the codename itself: a locator (stored, to find the thread) and an unlock
/// key (never stored, to open the thread's reply key). They are independent outputs of one slow hash.
/// </summary>
public sealed record CodenameSecrets(byte[] Locator, byte[] UnlockKey);

public sealed class CodenameRejectedException(string message) : Exception(message);
