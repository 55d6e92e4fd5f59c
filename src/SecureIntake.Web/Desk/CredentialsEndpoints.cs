using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using SecureIntake.Core.Editors;
using SecureIntake.Web.Desk.Access;
using SecureIntake.Web.Pages;

namespace SecureIntake.Web.Desk;

/// <summary>
/// An editor's own password and authenticator. Until they have replaced what an admin set or saw, this is the only
/// desk page open to them. Each change ends all their sessions (Core does that), so this browser gets a new one.
/// </summary>
internal static class CredentialsEndpoints
{
    public const string Path = "/desk/account";

    public static void MapCredentials(this RouteGroupBuilder reads, RouteGroupBuilder posts)
    {
        reads.MapGet("/account", AccountAsync);
        posts.MapPost("/account/password", ChangePasswordAsync);
        posts.MapPost("/account/two-factor", BeginTwoFactorAsync);
        posts.MapPost("/account/two-factor/confirm", ConfirmTwoFactorAsync);
    }

    private static async Task<HtmlPage> AccountAsync(string? done, DeskUser user, EditorStore editors, DeskPages pages, CancellationToken cancellationToken) =>
        pages.Account(user, await editors.CredentialsDueAsync(user.Id, cancellationToken), QueueQuery.Blank(done), null);

    private static async Task<Results<RedirectHttpResult, HtmlPage>> ChangePasswordAsync(DeskForm form, DeskUser user, HttpContext context, EditorStore editors,
        DeskSessions sessions, DeskPages pages, CancellationToken cancellationToken)
    {
        if (form["new"] != form["repeat"])
        {
            return pages.Problem(user, StatusCodes.Status400BadRequest, pages.Text("Problem_NotDone"), pages.Text("Account_PasswordsDiffer"));
        }

        try
        {
            await editors.ChangePasswordAsync(user.Editor, form["current"] ?? "", form["new"] ?? "", cancellationToken);
        }
        catch (EditorRefusedException e)
        {
            return pages.Problem(user, StatusCodes.Status400BadRequest, pages.Text("Problem_NotDone"), e.Message);
        }

        return await StartAgainAsync(user, context, editors, sessions, pages.Text("Account_PasswordChanged"), cancellationToken);
    }

    /// <summary>Shows a new secret this once, beside the form that confirms it; the old authenticator keeps working until then.</summary>
    private static async Task<HtmlPage> BeginTwoFactorAsync(DeskForm form, DeskUser user, EditorStore editors, DeskPages pages, CancellationToken cancellationToken)
    {
        try
        {
            var enrolment = await editors.BeginTwoFactorEnrolmentAsync(user.Editor, form["current"] ?? "", cancellationToken);
            return pages.Account(user, await editors.CredentialsDueAsync(user.Id, cancellationToken), null, enrolment);
        }
        catch (EditorRefusedException e)
        {
            return pages.Problem(user, StatusCodes.Status400BadRequest, pages.Text("Problem_NotDone"), e.Message);
        }
    }

    private static async Task<Results<RedirectHttpResult, HtmlPage>> ConfirmTwoFactorAsync(DeskForm form, DeskUser user, HttpContext context, EditorStore editors,
        DeskSessions sessions, DeskPages pages, CancellationToken cancellationToken)
    {
        try
        {
            await editors.ConfirmTwoFactorEnrolmentAsync(user.Editor, form["code"] ?? "", cancellationToken);
        }
        catch (EditorRefusedException e)
        {
            return pages.Problem(user, StatusCodes.Status400BadRequest, pages.Text("Problem_NotDone"), e.Message);
        }

        return await StartAgainAsync(user, context, editors, sessions, pages.Text("Account_TwoFactorChanged"), cancellationToken);
    }

    /// <summary>The change ended every session of the editor's, this one too: this browser, which just proved itself, gets a fresh one.</summary>
    private static async Task<RedirectHttpResult> StartAgainAsync(DeskUser user, HttpContext context, EditorStore editors, DeskSessions sessions, string done,
        CancellationToken cancellationToken)
    {
        var (token, _) = await sessions.StartAsync(user.Editor, DeskSessionKind.Browser, cancellationToken);
        DeskCookie.Set(context, token);
        return (await editors.CredentialsDueAsync(user.Id, cancellationToken)).Any
            ? TypedResults.Redirect($"{Path}?done={Uri.EscapeDataString(done)}")
            : TypedResults.Redirect("/desk");
    }
}
