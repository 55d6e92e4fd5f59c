using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using SecureIntake.Contracts;
using SecureIntake.Core.Audit;
using SecureIntake.Core.Editors;
using SecureIntake.Core.Triage;
using SecureIntake.Web.Desk.Access;

namespace SecureIntake.Web.Desk;

/// <summary>
/// The desk tool's API: JSON in and out, errors as ProblemDetails. Signing in takes the same password and
/// TOTP code as the web desk and yields a bearer token that lives an hour; it is useless as a cookie.
/// </summary>
internal static class DeskApi
{
    public static void MapDeskApi(this RouteGroupBuilder api)
    {
        api.MapPost("/sign-in", SignInAsync);

        var signedIn = api.MapGroup("").RequireAuthorization(DeskPolicies.Tool);
        signedIn.MapGet("/submissions", ListAsync);
        signedIn.MapGet("/submissions/{id:guid}/archive", ArchiveAsync);
    }

    private static async Task<Results<Ok<SignInResponse>, ProblemHttpResult>> SignInAsync(SignInRequest? request, HttpContext context, EditorStore editors,
        DeskSessions sessions)
    {
        if (request?.Name is null || request.Password is null || request.Code is null)
        {
            return TypedResults.Problem("Send name, password and code.", statusCode: StatusCodes.Status400BadRequest, title: "Incomplete sign-in");
        }

        switch (await editors.SignInAsync(request.Name, request.Password, request.Code, context.RequestAborted))
        {
            case SignInResult.SignedIn { MustRenewCredentials: true }:
                return TypedResults.Problem("Sign in to the web desk first and choose your own password and authenticator; an admin set or saw the ones you have.",
                    statusCode: StatusCodes.Status403Forbidden, title: "Choose your own credentials first");
            case SignInResult.SignedIn signedIn:
                var (token, expiresAt) = await sessions.StartAsync(signedIn.Editor, DeskSessionKind.Tool, context.RequestAborted);
                return TypedResults.Ok(new SignInResponse(token, expiresAt));
            case SignInResult.LockedOut lockedOut:
                return TypedResults.Problem($"Too many failed attempts: the account is locked until {lockedOut.Until.UtcDateTime:yyyy-MM-dd HH:mm} UTC.",
                    statusCode: StatusCodes.Status429TooManyRequests, title: "Locked");
            default:
                return TypedResults.Problem("Wrong name, password or code.", statusCode: StatusCodes.Status401Unauthorized, title: "Sign-in refused");
        }
    }

    private static async Task<Ok<SubmissionPage>> ListAsync(string? status, int? page, DeskUser user, TriageListing queue, CancellationToken cancellationToken)
    {
        var result = await queue.ListAsync(user.Scope, new QueueFilter(Status: QueueQuery.Blank(status)), page ?? 1, cancellationToken);
        return TypedResults.Ok(new SubmissionPage(result.Page, result.PageCount, result.Total, result.Rows.Select(r => new SubmissionSummary(
            r.Id, r.Desk, r.Channel, r.ReceivedAt, r.Status, r.Assignee, r.Priority, r.Tags, r.Files, r.SizeBucket, r.WitnessWroteSinceSeen)).ToList(), result.MoreThanTotal));
    }

    private static async Task<IResult> ArchiveAsync(Guid id, DeskUser user, TriageActions actions, TriageListing queue, SubmissionArchive archive, AuditLog audit,
        CancellationToken cancellationToken)
    {
        if (await actions.DetailsAsync(user.Scope, id, queue, cancellationToken) is not { } details)
        {
            return TypedResults.Problem("There is no such submission.", statusCode: StatusCodes.Status404NotFound, title: "Not found");
        }

        await audit.WriteAsync(new AuditEntry(user.Id, user.Name, "pulled archive", id), cancellationToken);
        return SubmissionEndpoints.ArchiveResult(details, archive, cancellationToken);
    }
}
