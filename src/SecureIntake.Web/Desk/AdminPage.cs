using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using SecureIntake.Core.Audit;
using SecureIntake.Core.Editors;
using SecureIntake.Core.Recipients;
using SecureIntake.Crypto.Keys;
using SecureIntake.Web.Desk.Access;
using SecureIntake.Web.Pages;

namespace SecureIntake.Web.Desk;

/// <summary>The admin page and what every admin change shares: the audit entry, the way back, the refusal page.</summary>
internal sealed class AdminPage(EditorStore editors, RecipientStore recipients, AuditLog audit, DeskPages pages, TimeProvider clock)
{
    public async Task<HtmlPage> RenderAsync(DeskUser user, string? done, TwoFactorEnrolment? enrolment, CancellationToken cancellationToken) =>
        pages.Admin(user.Editor, user.FormToken, await editors.ListAsync(cancellationToken), await recipients.ListAsync(cancellationToken),
            await recipients.DesksAsync(cancellationToken), done, enrolment, clock.GetUtcNow());

    /// <summary>Runs a change, audits what it says was done, and goes back to the admin page; a refusal changes nothing and says why.</summary>
    public async Task<Results<RedirectHttpResult, HtmlPage>> ChangeAsync(DeskUser user, Func<Task<string>> change, CancellationToken cancellationToken)
    {
        string done;
        try
        {
            done = await change();
        }
        catch (Exception e) when (e is EditorRefusedException or KeyFileException or UnknownDeskException)
        {
            return Refused(user, e);
        }

        await AuditAsync(user, done, cancellationToken);
        return TypedResults.Redirect($"/desk/admin?done={Uri.EscapeDataString(done)}");
    }

    /// <summary>A new second factor is shown on this one answer only; it is never stored where a page could show it again.</summary>
    public async Task<Results<RedirectHttpResult, HtmlPage>> ShowEnrolmentAsync(DeskUser user, string done, TwoFactorEnrolment enrolment,
        CancellationToken cancellationToken)
    {
        await AuditAsync(user, done, cancellationToken);
        return await RenderAsync(user, done, enrolment, cancellationToken);
    }

    public HtmlPage Refused(DeskUser user, Exception refusal) => pages.Problem(user, StatusCodes.Status400BadRequest, pages.Text("Problem_NotDone"), refusal.Message);

    private Task AuditAsync(DeskUser user, string done, CancellationToken cancellationToken) =>
        audit.WriteAsync(new AuditEntry(user.Id, user.Name, "admin", Detail: done), cancellationToken);
}
