using SecureIntake.Contracts;
using SecureIntake.Core.Audit;
using SecureIntake.Core.Editors;
using SecureIntake.Core.Recipients;
using SecureIntake.Core.Triage;
using SecureIntake.Web.Witness;

namespace SecureIntake.Web.Pages.Desk;

// Public only because RazorSlices' generated Create(model) methods are public.

/// <summary>What every desk page and part knows: its language, and the signed-in editor with their session's form token (none before sign-in).</summary>
public abstract record DeskModel(Language Language, Editor? Editor, string? FormToken);

/// <summary>The header's navigation: the desk's pages for this editor, their name, the language picker and sign-out.</summary>
public sealed record NavModel(Language Language, Editor Viewer, string Token) : DeskModel(Language, Viewer, Token);

public sealed record SignInModel(Language Language, string SignInToken, string? Error) : DeskModel(Language, null, null);

public sealed record QueueModel(Language Language, Editor Editor, string FormToken, QueuePage Page, QueueFilter Filter, IReadOnlyList<string> Editors,
    IReadOnlyList<string> Desks, IReadOnlyList<string> Warnings) : DeskModel(Language, Editor, FormToken);

/// <param name="Readers">Who can read each item, in the order of the details' items.</param>
/// <param name="Assignable">The editors a submission can be given to: the active members of its desk, and admins.</param>
public sealed record SubmissionModel(Language Language, Editor Editor, string FormToken, SubmissionDetails Details, IReadOnlyList<ItemReadersView> Readers,
    IReadOnlyList<string> Assignable, string? Message) : DeskModel(Language, Editor, FormToken);

/// <summary>Who can open one item: the key of each of its key packets, or null when its key packets could not be read.</summary>
public sealed record ItemReadersView(Guid ItemId, IReadOnlyList<KeyReader>? Readers);

public sealed record AuditModel(Language Language, Editor Editor, string FormToken, IReadOnlyList<LoggedEntry> Entries, int Page, bool HasOlder)
    : DeskModel(Language, Editor, FormToken);

/// <summary>A recipient key with what needs attention about it (null: usable), already worded.</summary>
public sealed record KeyRow(StoredRecipient Key, string? Warning);

/// <summary>A second factor made just now, to be shown this once.</summary>
public sealed record EnrolmentNotice(string EditorName, string Secret, string ProvisioningUri);

/// <param name="Memberships">Each editor's desks by editor name (editors of no desk are absent).</param>
public sealed record AdminModel(Language Language, Editor Editor, string FormToken, IReadOnlyList<Editor> Editors, IReadOnlyList<KeyRow> Keys,
    IReadOnlyList<(string Name, int RetentionDays)> Desks, string? Message, EnrolmentNotice? Enrolment,
    IReadOnlyDictionary<string, IReadOnlyList<string>>? Memberships = null) : DeskModel(Language, Editor, FormToken)
{
    public bool IsMember(string editor, string desk) => Memberships is not null && Memberships.TryGetValue(editor, out var desks) && desks.Contains(desk);
}

public sealed record ProblemModel(Language Language, Editor? Editor, string? FormToken, string Title, string Detail) : DeskModel(Language, Editor, FormToken);

/// <param name="Due">What the editor must still replace before the desk opens to them.</param>
/// <param name="Enrolment">A new second factor begun just now, shown this once with the form that confirms it.</param>
public sealed record AccountModel(Language Language, Editor Editor, string FormToken, CredentialsDue Due, string? Message, EnrolmentNotice? Enrolment)
    : DeskModel(Language, Editor, FormToken);
