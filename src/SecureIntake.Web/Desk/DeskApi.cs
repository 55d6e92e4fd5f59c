using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using SecureIntake.Core.Audit;
using SecureIntake.Core.Editors;
using SecureIntake.Core.Triage;

namespace SecureIntake.Web.Desk;

/// <summary>
/// The desk tool's API: JSON in and out, errors as ProblemDetails. Signing in takes the same password and
/// TOTP code as the web desk and yields a bearer token that lives an hour; it is useless as a cookie.
/// </summary>
internal static class DeskApi
{
    public static IEndpointRouteBuilder MapDeskApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/desk/api");
        api.MapPost("/sign-in", SignInAsync);

        var signedIn = api.MapGroup("").AddEndpointFilter(async (context, next) =>
        {
            var access = context.HttpContext.RequestServices.GetService(typeof(DeskAccess)) as DeskAccess;
            return await access!.ToolEditorAsync(context.HttpContext) is null
                ? TypedResults.Problem("Sign in again with `secureintake-desk login`.", statusCode: StatusCodes.Status401Unauthorized, title: "Not signed in")
                : await next(context);
        });
        signedIn.MapGet("/submissions", ListAsync);
        signedIn.MapGet("/submissions/{id:guid}/archive", ArchiveAsync);
        return endpoints;
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

    private static async Task<Ok<QueueResponse>> ListAsync(HttpContext context, TriageListing queue, DeskMembership membership, string? status, int? page)
    {
        var scope = await membership.ScopeOfAsync(DeskAccess.Editor(context), context.RequestAborted);
        var result = await queue.ListAsync(scope, new QueueFilter(Status: string.IsNullOrWhiteSpace(status) ? null : status), page ?? 1, context.RequestAborted);
        return TypedResults.Ok(new QueueResponse(result.Page, result.PageCount, result.Total, result.Rows.Select(r => new QueueItem(
            r.Id, r.Desk, r.Channel, r.ReceivedAt, r.Status, r.Assignee, r.Priority, r.Tags, r.Files, r.SizeBucket, r.WitnessWroteSinceSeen)).ToList()));
    }

    private static async Task<IResult> ArchiveAsync(Guid id, HttpContext context, TriageActions actions, TriageListing queue, SubmissionArchive archive, AuditLog audit,
        DeskMembership membership)
    {
        var editor = DeskAccess.Editor(context);
        var scope = await membership.ScopeOfAsync(editor, context.RequestAborted);
        if (await actions.DetailsAsync(scope, id, queue, context.RequestAborted) is not { } details)
        {
            return TypedResults.Problem("There is no such submission.", statusCode: StatusCodes.Status404NotFound, title: "Not found");
        }

        await audit.WriteAsync(new AuditEntry(editor.Id, editor.Name, "pulled archive", id), context.RequestAborted);
        return DeskEndpoints.ArchiveResult(details, archive, context.RequestAborted);
    }

    internal sealed record SignInRequest(string? Name, string? Password, string? Code);

    internal sealed record SignInResponse(string Token, DateTimeOffset ExpiresAt);

    internal sealed record QueueResponse(int Page, int PageCount, long Total, IReadOnlyList<QueueItem> Submissions);

    internal sealed record QueueItem(Guid Id, string Desk, string Channel, DateTimeOffset ReceivedAt, string Status, string? Assignee, string Priority,
        IReadOnlyList<string> Tags, int Files, string SizeBucket, bool WitnessWroteSinceSeen);
}
