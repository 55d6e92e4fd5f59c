using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using SecureIntake.Core.Audit;
using SecureIntake.Core.Editors;
using SecureIntake.Core.Recipients;
using SecureIntake.Core.Triage;
using SecureIntake.Web.Desk.Access;
using SecureIntake.Web.Pages;
using SecureIntake.Web.Pages.Desk;
using SecureIntake.Web.Witness;

namespace SecureIntake.Web.Desk;

/// <summary>
/// The editors' desk pages, compiled from Pages/Desk/*.cshtml on the one layout: plain HTML with the same strict
/// headers as the witness pages, no script. Content never appears here: items are listed as encrypted files to
/// download and open locally. Each page speaks the language of the request (<see cref="DeskLanguage.Of"/>).
/// </summary>
internal sealed class DeskPages(IOptions<WebOptions> web, DeskText text, IHttpContextAccessor requests)
{
    /// <summary>The language this request's pages and messages are in.</summary>
    public Language Language => DeskLanguage.Of(requests.HttpContext);

    /// <summary>A desk message in the request's language, for handlers to show or pass on.</summary>
    public string Text(string key, params object[] values) => text.Text(Language, key, values);

    /// <summary>A stored word (a status, a priority, a channel) in the request's language.</summary>
    public string Value(string kind, string value) => text.Value(Language, kind, value);

    public HtmlPage SignIn(string formToken, string? error, int status = StatusCodes.Status200OK) =>
        new(DeskSignInPage.Create(new SignInModel(Language, formToken, error)), status);

    public HtmlPage Queue(Editor editor, string formToken, QueuePage page, QueueFilter filter, IReadOnlyList<string> colleagues, IReadOnlyList<string> desks,
        IReadOnlyList<string> keyWarnings) =>
        new(DeskQueuePage.Create(new QueueModel(Language, editor, formToken, page, filter, colleagues, desks, keyWarnings)));

    public HtmlPage Submission(Editor editor, string formToken, SubmissionDetails details, IReadOnlyList<ItemReadersView> readers, IReadOnlyList<Editor> editors,
        string? message) =>
        new(DeskSubmissionPage.Create(new SubmissionModel(Language, editor, formToken, details, readers, [.. editors.Where(e => !e.Disabled).Select(e => e.Name)],
            message)));

    public HtmlPage Audit(Editor editor, string formToken, IReadOnlyList<LoggedEntry> entries, int page) =>
        new(DeskAuditPage.Create(new AuditModel(Language, editor, formToken, entries, page, entries.Count == AuditLog.PageSize)));

    /// <summary>Why a desk's key needs attention (refused, or expiring within 30 days), in <paramref name="language"/>; null when it does not.</summary>
    public string? KeyWarning(Language language, StoredRecipient key, DateTimeOffset now) => key.Verdict.Key switch
    {
        null => text.Text(language, "Key_Refused", DeskMessage.Problem(key.Verdict.Problem, key.Verdict.ProblemDetail, key.Verdict.RefusalReason).In(text, language)),
        { } usable when Crypto.Keys.KeyExpiry.Near(usable, now) is { } expires =>
            text.Text(language, "Key_Expires", expires.UtcDateTime.ToString("d", language.Culture)),
        _ => null,
    };

    public HtmlPage Account(DeskUser user, CredentialsDue due, string? message, TwoFactorEnrolment? enrolment) =>
        new(DeskAccountPage.Create(new AccountModel(Language, user.Editor, user.FormToken, due, message, enrolment is null ? null
            : new EnrolmentNotice(enrolment.Editor.Name, Totp.ToBase32(enrolment.TotpSecret), enrolment.ProvisioningUri(web.Value.NewsroomName)))));

    public HtmlPage Problem(DeskUser? user, int status, string title, string detail) => Problem(user?.Editor, user?.FormToken, status, title, detail);

    public HtmlPage Problem(Editor? editor, string? formToken, int status, string title, string detail) =>
        new(DeskProblemPage.Create(new ProblemModel(Language, editor, formToken, title, detail)), status);
}
