using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SecureIntake.Core.Editors;

namespace SecureIntake.Web.Desk.Access;

/// <summary>
/// Turns a desk session token into the request's user. The lookup (token hash, idle and absolute time-outs, a
/// disabled editor, a reset second factor) stays in <see cref="DeskSessions"/>; each scheme only says where the
/// token travels and how a refusal is answered.
/// </summary>
internal abstract class DeskSessionHandler(DeskSessions sessions, IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected abstract DeskSessionKind Kind { get; }

    protected abstract string? ReadToken();

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (ReadToken() is not { Length: > 0 } token)
        {
            return AuthenticateResult.NoResult();
        }

        // Desks, what is due and the language are read with the session, so a change to any applies from the editor's next request.
        if (await sessions.FindAsync(token, Kind, Context.RequestAborted) is not { } session)
        {
            return AuthenticateResult.Fail("no live desk session");
        }

        var formToken = Kind == DeskSessionKind.Browser ? DeskSessions.FormToken(token) : null;
        return AuthenticateResult.Success(new AuthenticationTicket(DeskClaims.Principal(session, formToken, Scheme.Name), Scheme.Name));
    }
}

/// <summary>The web desk: the session cookie; a visitor without one is sent to sign in, an editor on an admin page gets 403.</summary>
internal sealed class DeskBrowserHandler(DeskSessions sessions, DeskPages pages, IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger,
    UrlEncoder encoder) : DeskSessionHandler(sessions, options, logger, encoder)
{
    protected override DeskSessionKind Kind => DeskSessionKind.Browser;

    protected override string? ReadToken() => DeskCookie.Read(Request);

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Redirect("/desk/sign-in");
        return Task.CompletedTask;
    }

    /// <summary>An editor who must first replace what an admin set is sent to do that; anyone else was refused an admin page.</summary>
    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        if (Context.User.HasClaim(claim => claim.Type == DeskClaims.RenewalDue))
        {
            Response.Redirect(AccountEndpoints.Path);
            return Task.CompletedTask;
        }

        return pages.Problem(DeskUser.From(Context), StatusCodes.Status403Forbidden, pages.Text("Problem_AdminsOnly"), pages.Text("Problem_AdminsOnlyDetail"))
            .ExecuteAsync(Context);
    }
}

/// <summary>The desk tool: a bearer token; refusals are problem details the tool shows as they are.</summary>
internal sealed class DeskToolHandler(DeskSessions sessions, IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : DeskSessionHandler(sessions, options, logger, encoder)
{
    private const string Bearer = "Bearer ";

    protected override DeskSessionKind Kind => DeskSessionKind.Tool;

    protected override string? ReadToken()
    {
        var header = Request.Headers.Authorization.ToString();
        return header.StartsWith(Bearer, StringComparison.Ordinal) ? header[Bearer.Length..].Trim() : null;
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        TypedResults.Problem("Sign in again with `secureintake-desk login`.", statusCode: StatusCodes.Status401Unauthorized, title: "Not signed in")
            .ExecuteAsync(Context);

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        TypedResults.Problem(Context.User.HasClaim(claim => claim.Type == DeskClaims.RenewalDue)
                ? "Sign in to the web desk first and choose your own password and authenticator; an admin set or saw the ones you have."
                : "This editor may not do that.",
            statusCode: StatusCodes.Status403Forbidden, title: "Forbidden").ExecuteAsync(Context);
}
