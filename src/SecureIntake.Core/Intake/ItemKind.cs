namespace SecureIntake.Core.Intake;

public enum ItemKind
{
    /// <summary>The encrypted list of a batch's items with their original names and types.</summary>
    Manifest,

    /// <summary>Text the witness typed.</summary>
    Message,

    /// <summary>A file the witness attached, byte for byte.</summary>
    File,

    /// <summary>A whole email as it came from the mail server, headers included.</summary>
    Email,
}
