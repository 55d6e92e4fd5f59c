namespace SecureIntake.Crypto.Keys;

/// <summary>A key file that cannot be used at all: unreadable, empty, or holding a private key.</summary>
public sealed class KeyFileException(string message, Exception? inner = null) : Exception(message, inner);
