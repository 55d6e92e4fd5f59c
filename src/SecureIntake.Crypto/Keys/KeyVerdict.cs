namespace SecureIntake.Crypto.Keys;

/// <summary>Why a certificate cannot be encrypted to, as a kind the desk words in each editor's language.</summary>
public enum KeyProblem
{
    /// <summary>Not a version 4 key; <see cref="KeyVerdict.ProblemDetail"/> is its version.</summary>
    OldVersion,
    Revoked,
    NoSelfSignature,

    /// <summary><see cref="KeyVerdict.ProblemDetail"/> is the day it expired (yyyy-MM-dd).</summary>
    Expired,
    SigningOnly,

    /// <summary>Every encryption subkey is revoked, expired or of an algorithm we cannot encrypt to.</summary>
    NoUsableEncryptionKey,
    UnsoundRsa,
}

/// <summary>What <see cref="RecipientKeyReader"/> decided about one certificate: usable, or refused with a reason.</summary>
public sealed record KeyVerdict(string Fingerprint, RecipientKey? Key, string? RefusalReason)
{
    public bool IsUsable => Key is not null;

    /// <summary>The certificate judged, as binary OpenPGP (public material only).</summary>
    public byte[] Certificate { get; init; } = [];

    /// <summary>The kind of refusal, for words in another language than <see cref="RefusalReason"/>'s English; null when usable.</summary>
    public KeyProblem? Problem { get; init; }

    /// <summary>The one particular <see cref="Problem"/>'s words need (see each kind), or null.</summary>
    public string? ProblemDetail { get; init; }

    internal static KeyVerdict Usable(RecipientKey key) => new(key.Fingerprint, key, null);

    internal static KeyVerdict Refused(string fingerprint, KeyProblem problem, string reason, string? detail = null) =>
        new(fingerprint, null, reason) { Problem = problem, ProblemDetail = detail };
}
