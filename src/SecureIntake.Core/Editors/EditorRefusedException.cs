namespace SecureIntake.Core.Editors;

/// <summary>Why an account change or a check of credentials was refused; the desk words each kind in the editor's language.</summary>
public enum EditorRefusal
{
    /// <summary>Worded by the message alone (in English).</summary>
    Other,

    BadName,

    /// <summary>Arguments: the name.</summary>
    NameTaken,

    /// <summary>Arguments: the name.</summary>
    NoSuchEditor,

    /// <summary>An admin's password for an editor. Arguments: the <see cref="PasswordProblem"/>.</summary>
    PasswordRefused,

    /// <summary>The editor's own new password. Arguments: the <see cref="PasswordProblem"/>.</summary>
    NewPasswordRefused,

    PasswordUnchanged,
    PasswordChangedMeanwhile,
    LockedOrDisabled,
    WrongCurrentPassword,
    NoPendingEnrolment,
    WrongEnrolmentCode,
    EnrolmentRestarted,

    /// <summary>Arguments: the address.</summary>
    BadEmail,

    /// <summary>Arguments: the language code.</summary>
    NoSuchLanguage,

    /// <summary>Arguments: the desk.</summary>
    JoinAndLeave,

    /// <summary>The two passwords typed differ.</summary>
    PasswordsDiffer,
}

/// <summary>
/// A refusal that changed nothing: <see cref="Kind"/> and <see cref="Arguments"/> say why for any language, the message
/// says it in English (the command line and logs).
/// </summary>
public sealed class EditorRefusedException : Exception
{
    public EditorRefusedException(EditorRefusal kind, params object[] arguments)
        : base(Describe(kind, arguments))
    {
        Kind = kind;
        Arguments = arguments;
    }

    public EditorRefusedException(string message)
        : base(message)
    {
        Kind = EditorRefusal.Other;
        Arguments = [];
    }

    public EditorRefusal Kind { get; }

    public IReadOnlyList<object> Arguments { get; }

    private static string Describe(EditorRefusal kind, object[] arguments)
    {
        var first = arguments.Length > 0 ? arguments[0] : "";
        return kind switch
        {
            EditorRefusal.BadName => "a name is 1 to 63 characters: lower-case letters, digits, '.', '_' or '-', starting with a letter or digit",
            EditorRefusal.NameTaken => $"there is already an editor named '{first}'",
            EditorRefusal.NoSuchEditor => $"there is no editor named '{first}'",
            EditorRefusal.PasswordRefused => $"the password is refused: {PasswordPolicy.Describe((PasswordProblem)first)}",
            EditorRefusal.NewPasswordRefused => $"the new password is refused: {PasswordPolicy.Describe((PasswordProblem)first)}",
            EditorRefusal.PasswordUnchanged => "the new password must differ from the current one",
            EditorRefusal.PasswordChangedMeanwhile => "the password was changed meanwhile; sign in again",
            EditorRefusal.LockedOrDisabled => "too many failed attempts, or the account is disabled: try again later",
            EditorRefusal.WrongCurrentPassword => "the current password is wrong",
            EditorRefusal.NoPendingEnrolment => "no new authenticator is waiting to be confirmed; start the enrolment again",
            EditorRefusal.WrongEnrolmentCode => "the code does not match the new authenticator; the old one still works",
            EditorRefusal.EnrolmentRestarted => "the enrolment was started again meanwhile; use the newest secret",
            EditorRefusal.BadEmail => $"'{first}' is not an email address",
            EditorRefusal.NoSuchLanguage => $"the desk has no pages in '{first}'",
            EditorRefusal.JoinAndLeave => $"desk '{first}' cannot be joined and left at once",
            EditorRefusal.PasswordsDiffer => "the two passwords differ; nothing was changed",
            _ => "refused",
        };
    }
}
