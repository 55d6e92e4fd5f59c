using System.Collections.Frozen;
using System.Globalization;

namespace SecureIntake.Core.Editors;

/// <summary>
/// What an editor's new password must be: long, not on a list attackers try first, and not built on the user name.
/// No composition rules (a digit, a capital): they push people to predictable patterns rather than longer passwords.
/// </summary>
public static class PasswordPolicy
{
    public const int MinimumLength = 12;
    public const int MaximumLength = 256;

    internal const int CommonPasswordCount = 10_000;

    // Stripping digits off "1234" leaves nothing worth matching; a stem shorter than this is not compared.
    private const int MinimumCommonStemLength = 4;

    // A one- or two-letter user name is inside too many good passwords to forbid.
    private const int MinimumUserNameLengthChecked = 3;

    private static readonly char[] AsciiDigits = "0123456789".ToCharArray();

    private static readonly Lazy<FrozenSet<string>> Common = new(LoadCommonPasswords);

    internal static IReadOnlySet<string> CommonPasswords => Common.Value;

    /// <summary>Null when the password is acceptable, or a short English reason (the command line's words).</summary>
    public static string? Problem(string password, string userName) => Check(password, userName) is { } problem ? Describe(problem) : null;

    public static string Describe(PasswordProblem problem) => problem switch
    {
        PasswordProblem.TooLong => "too long",
        PasswordProblem.TooShort => $"at least {MinimumLength} characters",
        PasswordProblem.Common => "one of the most common passwords",
        _ => "must not contain the user name",
    };

    /// <summary>Null when the password is acceptable, or what is wrong with it.</summary>
    public static PasswordProblem? Check(string password, string userName)
    {
        ArgumentNullException.ThrowIfNull(password);
        ArgumentNullException.ThrowIfNull(userName);

        // The upper bound counts UTF-16 chars: it is there to bound hashing work and storage, and is checked before
        // anything walks the string.
        if (password.Length > MaximumLength)
        {
            return PasswordProblem.TooLong;
        }

        // The lower bound counts text elements (what a person sees as one character: "é" whether typed composed
        // or decomposed, an emoji made of several code points), so combining marks cannot pad a short password.
        if (new StringInfo(password).LengthInTextElements < MinimumLength)
        {
            return PasswordProblem.TooShort;
        }

        var lower = password.ToLowerInvariant();
        var stem = lower.TrimEnd(AsciiDigits);
        if (Common.Value.Contains(lower) || (stem.Length >= MinimumCommonStemLength && Common.Value.Contains(stem)))
        {
            return PasswordProblem.Common;
        }

        var name = userName.Trim();
        if (name.Length >= MinimumUserNameLengthChecked && password.Contains(name, StringComparison.OrdinalIgnoreCase))
        {
            return PasswordProblem.ContainsUserName;
        }

        return null;
    }

    private static FrozenSet<string> LoadCommonPasswords()
    {
        using var stream = typeof(PasswordPolicy).Assembly.GetManifestResourceStream("Editors/common-passwords.txt")!;
        using var reader = new StreamReader(stream);
        var passwords = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(line => !line.StartsWith('#'))
            .Select(line => line.ToLowerInvariant())
            .ToFrozenSet(StringComparer.Ordinal);
        return passwords.Count == CommonPasswordCount
            ? passwords
            : throw new InvalidOperationException($"the common-password list must hold {CommonPasswordCount} distinct passwords");
    }
}

/// <summary>What <see cref="PasswordPolicy"/> finds wrong with a password.</summary>
public enum PasswordProblem
{
    TooLong,

    /// <summary>Shorter than <see cref="PasswordPolicy.MinimumLength"/> characters.</summary>
    TooShort,

    Common,
    ContainsUserName,
}
