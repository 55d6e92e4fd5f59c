using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using SecureIntake.Core.Audit;
using SecureIntake.Core.Editors;
using SecureIntake.Core.Recipients;
using SecureIntake.Web.Desk.Access;
using SecureIntake.Web.Pages;
using SecureIntake.Web.Pages.Desk;

namespace SecureIntake.Web.Desk;

/// <summary>
/// The admin page and what every admin change shares: the audit entry (in English), the way back with what was done
/// (in the admin's language), the refusal page.
/// </summary>
internal sealed class AdminPage(EditorStore editors, RecipientStore recipients, DeskMembership membership, AuditLog audit, DeskPages pages, DeskText text,
    IOptions<WebOptions> web, TimeProvider clock)
{
    public async Task<HtmlPage> RenderAsync(DeskUser user, string? done, TwoFactorEnrolment? enrolment, CancellationToken cancellationToken)
    {
        var language = pages.Language;
        var now = clock.GetUtcNow();
        var notice = enrolment is null
            ? null
            : new EnrolmentNotice(enrolment.Editor.Name, Totp.ToBase32(enrolment.TotpSecret), enrolment.ProvisioningUri(web.Value.NewsroomName));
        var keys = (await recipients.ListAsync(cancellationToken)).Select(k => new KeyRow(k, pages.KeyWarning(language, k, now))).ToList();
        return new(DeskAdminPage.Create(new AdminModel(language, user.Editor, user.FormToken, await editors.ListAsync(cancellationToken), keys,
            await recipients.DesksAsync(cancellationToken), done, notice, await membership.AllAsync(cancellationToken))));
    }

    /// <summary>Runs a change, audits what it says was done, and goes back to the admin page; a refusal changes nothing and says why.</summary>
    public async Task<Results<RedirectHttpResult, HtmlPage>> ChangeAsync(DeskUser user, Func<Task<IReadOnlyList<DeskMessage>>> change,
        CancellationToken cancellationToken)
    {
        IReadOnlyList<DeskMessage> done;
        try
        {
            done = await change();
        }
        catch (Exception e) when (DeskMessage.Refusal(e) is { } refusal)
        {
            return Refused(user, refusal);
        }

        await AuditAsync(user, done, cancellationToken);
        return TypedResults.Redirect($"/desk/admin?done={Uri.EscapeDataString(In(done, pages.Language))}");
    }

    /// <summary>A new second factor is shown on this one answer only; it is never stored where a page could show it again.</summary>
    public async Task<HtmlPage> ShowEnrolmentAsync(DeskUser user, DeskMessage done, TwoFactorEnrolment enrolment, CancellationToken cancellationToken)
    {
        await AuditAsync(user, [done], cancellationToken);
        return await RenderAsync(user, done.In(text, pages.Language), enrolment, cancellationToken);
    }

    public HtmlPage Refused(DeskUser user, DeskMessage refusal) =>
        pages.Problem(user, StatusCodes.Status400BadRequest, pages.Text("Problem_NotDone"), refusal.In(text, pages.Language));

    private string In(IReadOnlyList<DeskMessage> messages, Witness.Language language) => string.Join(" ", messages.Select(m => m.In(text, language)));

    private Task AuditAsync(DeskUser user, IReadOnlyList<DeskMessage> done, CancellationToken cancellationToken) =>
        audit.WriteAsync(new AuditEntry(user.Id, user.Name, "admin", Detail: In(done, DeskLanguage.English)), cancellationToken);
}

/// <summary>A key change the rules refused, carried out of a change to the admin page's refusal.</summary>
internal sealed class KeyChangeRefusedException(KeyRefusal refusal) : Exception(refusal.Describe())
{
    public KeyRefusal Refusal { get; } = refusal;
}
