using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using SecureIntake.Core.Editors;
using SecureIntake.Web.Desk.Access;
using SecureIntake.Web.Pages;

namespace SecureIntake.Web.Desk;

/// <summary>
/// What an editor sets for themselves: their password, their authenticator and the language of their desk pages. Until
/// they have replaced what an admin set or saw, the account page is the only desk page open to them. A change of
/// password or authenticator ends all their sessions (Core does that), so this browser gets a new one.
/// </summary>
internal static class AccountEndpoints
{
    public const string Path = "/desk/account";

    public static void MapAccount(this RouteGroupBuilder reads, RouteGroupBuilder posts)
    {
        reads.MapGet("/account", AccountAsync);
        posts.MapPost("/account/password", ChangePasswordAsync);
        posts.MapPost("/account/two-factor", BeginTwoFactorAsync);
        posts.MapPost("/account/two-factor/confirm", ConfirmTwoFactorAsync);
        posts.MapPost("/language", SetLanguageAsync);
    }

    private static async Task<HtmlPage> AccountAsync(string? done, DeskUser user, EditorStore editors, DeskPages pages, CancellationToken cancellationToken) =>
        pages.Account(user, await editors.CredentialsDueAsync(user.Id, cancellationToken), QueueQuery.Blank(done), null);

    private static async Task<Results<RedirectHttpResult, HtmlPage>> ChangePasswordAsync(DeskForm form, DeskUser user, HttpContext context, EditorStore editors,
        DeskSessions sessions, DeskPages pages, DeskText text, CancellationToken cancellationToken)
    {
        CredentialsDue due;
        try
        {
            if (!string.Equals(form["new"], form["repeat"], StringComparison.Ordinal))
            {
                throw new EditorRefusedException(EditorRefusal.PasswordsDiffer);
            }

            due = await editors.ChangePasswordAsync(user.Editor, form["current"] ?? "", form["new"] ?? "", cancellationToken);
        }
        catch (EditorRefusedException e)
        {
            return Refused(user, pages, text, e);
        }

        return await StartAgainAsync(user, context, sessions, due, pages.Text("Account_PasswordChanged"), cancellationToken);
    }

    /// <summary>Shows a new secret this once, beside the form that confirms it; the old authenticator keeps working until then.</summary>
    private static async Task<HtmlPage> BeginTwoFactorAsync(DeskForm form, DeskUser user, EditorStore editors, DeskPages pages, DeskText text,
        CancellationToken cancellationToken)
    {
        try
        {
            var enrolment = await editors.BeginTwoFactorEnrolmentAsync(user.Editor, form["current"] ?? "", cancellationToken);
            return pages.Account(user, await editors.CredentialsDueAsync(user.Id, cancellationToken), null, enrolment);
        }
        catch (EditorRefusedException e)
        {
            return Refused(user, pages, text, e);
        }
    }

    private static async Task<Results<RedirectHttpResult, HtmlPage>> ConfirmTwoFactorAsync(DeskForm form, DeskUser user, HttpContext context, EditorStore editors,
        DeskSessions sessions, DeskPages pages, DeskText text, CancellationToken cancellationToken)
    {
        CredentialsDue due;
        try
        {
            due = await editors.ConfirmTwoFactorEnrolmentAsync(user.Editor, form["code"] ?? "", cancellationToken);
        }
        catch (EditorRefusedException e)
        {
            return Refused(user, pages, text, e);
        }

        return await StartAgainAsync(user, context, sessions, due, pages.Text("Account_TwoFactorChanged"), cancellationToken);
    }

    /// <summary>Stores the editor's choice and goes to the queue, now in that language (the pages send no Referer to go back by).</summary>
    private static async Task<Results<RedirectHttpResult, HtmlPage>> SetLanguageAsync(DeskForm form, DeskUser user, EditorLanguage languages, DeskPages pages,
        DeskText text, CancellationToken cancellationToken)
    {
        try
        {
            await languages.SetAsync(user.Id, form["language"] ?? "", cancellationToken);
        }
        catch (EditorRefusedException e)
        {
            return Refused(user, pages, text, e);
        }

        return TypedResults.Redirect("/desk");
    }

    /// <summary>
    /// The change ended every session of the editor's, this one too: this browser, which just proved itself, gets a fresh
    /// one, and stays on the account page while the change left something an admin set or saw.
    /// </summary>
    private static async Task<RedirectHttpResult> StartAgainAsync(DeskUser user, HttpContext context, DeskSessions sessions, CredentialsDue due, string done,
        CancellationToken cancellationToken)
    {
        var (token, _) = await sessions.StartAsync(user.Editor, DeskSessionKind.Browser, cancellationToken);
        DeskCookie.Set(context, token);
        return due.Any ? TypedResults.Redirect($"{Path}?done={Uri.EscapeDataString(done)}") : TypedResults.Redirect("/desk");
    }

    private static HtmlPage Refused(DeskUser user, DeskPages pages, DeskText text, EditorRefusedException refusal) =>
        pages.Problem(user, StatusCodes.Status400BadRequest, pages.Text("Problem_NotDone"), DeskMessage.Refusal(refusal)!.In(text, pages.Language));
}
