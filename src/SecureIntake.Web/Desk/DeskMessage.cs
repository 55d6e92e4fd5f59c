using SecureIntake.Core.Editors;
using SecureIntake.Core.Recipients;
using SecureIntake.Crypto.Keys;
using SecureIntake.Web.Witness;

namespace SecureIntake.Web.Desk;

/// <summary>
/// A message of the desk's (a result or a refusal) kept as a text key and its arguments until it is shown, so the
/// same message is written in English to the audit log and in the editor's language on their page. An argument that
/// is itself a message is worded in the same language.
/// </summary>
internal sealed record DeskMessage(string Key, params object[] Arguments)
{
    /// <summary>Text that has no words of the desk's own (Crypto's reading of a key file): shown as it is.</summary>
    public static DeskMessage Plain(string text) => new("Message_Plain", text);

    public string In(DeskText text, Language language) =>
        text.Text(language, Key, [.. Arguments.Select(argument => argument switch
        {
            DeskMessage message => message.In(text, language),
            IEnumerable<DeskMessage> messages => string.Join("; ", messages.Select(m => m.In(text, language))),
            _ => argument,
        })]);

    /// <summary>Why Core refused a change, in words any desk language has; null for an exception that is no refusal.</summary>
    public static DeskMessage? Refusal(Exception exception) => exception switch
    {
        EditorRefusedException { Kind: EditorRefusal.Other } refused => Plain(refused.Message),
        EditorRefusedException { Kind: EditorRefusal.PasswordRefused or EditorRefusal.NewPasswordRefused } refused =>
            new($"Refusal_{refused.Kind}", new DeskMessage($"Password_{refused.Arguments[0]}", PasswordPolicy.MinimumLength)),
        EditorRefusedException refused => new($"Refusal_{refused.Kind}", [.. refused.Arguments]),
        UnknownDeskException unknown => new("Refusal_UnknownDesk", unknown.Desk),
        DeskRefusedException refused => new($"Refusal_Desk{refused.Kind}", refused.Desk),
        KeyFileException unreadable => Plain(unreadable.Message),
        KeyChangeRefusedException refused => Refusal(refused.Refusal),
        _ => null,
    };

    /// <summary>Why a key operation changed nothing.</summary>
    public static DeskMessage Refusal(KeyRefusal refusal) => refusal.Kind switch
    {
        KeyRefusalKind.NewKeyRefused => new("KeyRefusal_NewKeyRefused", refusal.Keys.Select(k => new DeskMessage("Key_WithProblem", k.Fingerprint, Problem(k))).ToList()),
        KeyRefusalKind.NotOneKey => new("KeyRefusal_NotOneKey", refusal.Count),
        KeyRefusalKind.FirstKeyRefused => new("KeyRefusal_FirstKeyRefused", refusal.Fingerprint, Problem(refusal.Keys[0])),
        KeyRefusalKind.LastUsableKey => new("KeyRefusal_LastUsableKey", refusal.Fingerprint, string.Join(", ", refusal.Keys.Select(k => $"'{k.Desk}'")),
            refusal.Keys[0].Desk),
        _ when refusal.Desk is { } desk => new("KeyRefusal_NoSuchKeyOnDesk", refusal.Fingerprint, desk),
        _ => new("KeyRefusal_NoSuchKey", refusal.Fingerprint),
    };

    /// <summary>What happened to one key.</summary>
    public static DeskMessage Change(KeyChange change) => new($"KeyChange_{change.Kind}", change.Fingerprint, change.Desk, Problem(change));

    /// <summary>Why a key is not encrypted to, in the editor's words when it is the key's own problem.</summary>
    public static DeskMessage Problem(KeyProblem? problem, string? detail, string? reason) =>
        problem is { } kind ? new($"KeyProblem_{kind}", detail ?? "") : Plain(reason ?? "");

    private static DeskMessage Problem(KeyChange change) => Problem(change.Problem, change.ProblemDetail, change.Reason);
}
