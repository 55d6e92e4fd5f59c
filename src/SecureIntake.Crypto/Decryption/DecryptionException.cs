namespace SecureIntake.Crypto.Decryption;

public sealed class DecryptionException(string message, Exception? inner = null) : Exception(message, inner);
