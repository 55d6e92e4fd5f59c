using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using SecureIntake.Core.Editors;
using SecureIntake.Web.Desk.Access;
using SecureIntake.Web.Pages;
using SecureIntake.Web.Witness;

namespace SecureIntake.Web.Desk;

/// <summary>Signing in (open to anyone, guarded like the witness forms) and signing out (a desk post like any other).</summary>
internal static class SignInEndpoints
{
    public static void MapSignIn(this IEndpointRouteBuilder anonymous, RouteGroupBuilder posts)
    {
        anonymous.MapGet("/desk/sign-in", SignInPage);
        anonymous.MapPost("/desk/sign-in", SignInAsync);
        posts.MapPost("/sign-out", SignOutAsync);
    }

    private static HtmlPage SignInPage(HttpContext context, FormTokens tokens, DeskPages pages) => pages.SignIn(tokens.Issue(context), null);

    private static async Task<Results<RedirectHttpResult, HtmlPage>> SignInAsync(DeskForm form, HttpContext context, FormTokens tokens, EditorStore editors,
        DeskSessions sessions, DeskPages pages)
    {
        if (!form.IsReadable || !SameOriginPost.IsAllowed(context.Request) || !tokens.IsValid(context, form["token"]))
        {
            return pages.SignIn(tokens.Issue(context), pages.Text("SignIn_Expired"), StatusCodes.Status403Forbidden);
        }

        switch (await editors.SignInAsync(form["name"] ?? "", form["password"] ?? "", form["code"] ?? "", context.RequestAborted))
        {
            case SignInResult.SignedIn signedIn:
                var (token, _) = await sessions.StartAsync(signedIn.Editor, DeskSessionKind.Browser, context.RequestAborted);
                DeskCookie.Set(context, token);
                return TypedResults.Redirect(signedIn.MustRenewCredentials ? AccountEndpoints.Path : "/desk");
            case SignInResult.LockedOut lockedOut:
                return pages.SignIn(tokens.Issue(context), pages.Text("SignIn_Locked", lockedOut.Until.UtcDateTime.ToString("t", pages.Language.Culture)),
                    StatusCodes.Status429TooManyRequests);
            default:
                return pages.SignIn(tokens.Issue(context), pages.Text("SignIn_Wrong"), StatusCodes.Status401Unauthorized);
        }
    }

    private static async Task<RedirectHttpResult> SignOutAsync(DeskForm form, HttpContext context, DeskSessions sessions)
    {
        if (DeskCookie.Read(context.Request) is { } token)
        {
            await sessions.EndAsync(token, context.RequestAborted);
        }

        DeskCookie.Delete(context);
        return TypedResults.Redirect("/desk/sign-in");
    }
}
