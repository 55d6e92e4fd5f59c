namespace SecureIntake.Core.Intake;

/// <summary>Intake is refused for a reason the sender should be told: nothing was stored.</summary>
public sealed class IntakeRefusedException(IntakeRefusal reason, string message) : Exception(message)
{
    public IntakeRefusal Reason { get; } = reason;
}

public enum IntakeRefusal
{
    /// <summary>The desk has no usable recipient key: nothing could be encrypted for it.</summary>
    DeskCannotEncrypt,

    /// <summary>Free disk space is, or writing on would take it, below Storage:MinimumFreeBytes.</summary>
    NoRoom,

    /// <summary>A follow-up's submission no longer exists (the editors deleted it).</summary>
    SubmissionGone,
}
