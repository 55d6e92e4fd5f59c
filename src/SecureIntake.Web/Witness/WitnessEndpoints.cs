using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using SecureIntake.Core.Recipients;
using SecureIntake.Core.Replies;

namespace SecureIntake.Web.Witness;

/// <summary>
/// The witness's routes, each under its language: /en, /ru, /kk. Nothing here logs or stores who is
/// asking: no IP address, user agent or referrer.
/// </summary>
public static class WitnessEndpoints
{
    private const int MaxReturnFormBytes = 4096;

    public static IEndpointRouteBuilder MapWitness(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/", (IOptions<WebOptions> web) => TypedResults.Redirect($"/{web.Value.DefaultLanguage}"));
        endpoints.MapGet("/static/site.css", StyleSheet);

        var witness = endpoints.MapGroup("/{language:regex(^(en|ru|kk)$)}");
        witness.MapGet("", (string language, WitnessPages pages) => pages.Landing(Language.Find(language)!));
        witness.MapGet("/submit", async (string language, HttpContext context, FormTokens tokens, WitnessPages pages, RecipientStore desks,
            CancellationToken cancellationToken) => pages.Form(Language.Find(language)!, await desks.DeskNamesAsync(cancellationToken), tokens.Issue(context)));
        witness.MapPost("/submit", SubmitAsync);
        witness.MapGet("/return", (string language, HttpContext context, FormTokens tokens, WitnessPages pages) =>
            pages.Return(Language.Find(language)!, notFound: false, tokens.Issue(context)));
        witness.MapPost("/return", ReturnAsync);
        witness.MapGet("/thread", ThreadPageAsync);
        witness.MapPost("/thread", FollowUpAsync);
        witness.MapPost("/signout", SignOut);
        return endpoints;
    }

    private static async Task<ContentHttpResult> SubmitAsync(string language, HttpContext context, MultipartSubmission submission,
        WitnessPages pages, IOptions<IntakeLimits> limits, CancellationToken cancellationToken)
    {
        var lang = Language.Find(language)!;
        try
        {
            var received = await ReceiveAsync(context, submission, limits.Value, followUpOf: null, cancellationToken);
            return pages.Received(lang, received.Codename!);
        }
        catch (SubmissionRejectedException rejected)
        {
            await RequestSizeLimit.DiscardRestAsync(context);
            return pages.Rejected(lang, rejected.Problem);
        }
    }

    private static async Task<ContentHttpResult> FollowUpAsync(string language, HttpContext context, MultipartSubmission submission,
        WitnessSessions sessions, WitnessPages pages, IOptions<IntakeLimits> limits, CancellationToken cancellationToken)
    {
        var lang = Language.Find(language)!;
        try
        {
            var thread = sessions.Current(context) ?? throw new SubmissionRejectedException(SubmissionProblem.SignedOut);
            await ReceiveAsync(context, submission, limits.Value, thread.SubmissionId, cancellationToken);
            return pages.FollowUpReceived(lang);
        }
        catch (SubmissionRejectedException rejected)
        {
            await RequestSizeLimit.DiscardRestAsync(context);
            return pages.Rejected(lang, rejected.Problem);
        }
    }

    private static async Task<ReceivedSubmission> ReceiveAsync(HttpContext context, MultipartSubmission submission, IntakeLimits limits,
        Guid? followUpOf, CancellationToken cancellationToken)
    {
        if (!SameOriginPost.IsAllowed(context.Request))
        {
            throw new SubmissionRejectedException(SubmissionProblem.CrossSite);
        }

        RequestSizeLimit.Apply(context, limits.MaxRequestBytes);
        return await submission.ReceiveAsync(context, followUpOf, cancellationToken);
    }

    private static async Task<IResult> ReturnAsync(string language, HttpContext context, CodenameCheck check, WitnessSessions sessions,
        FormTokens tokens, WitnessPages pages, CancellationToken cancellationToken)
    {
        var lang = Language.Find(language)!;
        if (!SameOriginPost.IsAllowed(context.Request))
        {
            return pages.Rejected(lang, SubmissionProblem.CrossSite);
        }

        // A tiny urlencoded form, read pair by pair with hard limits into memory; nothing goes to disk.
        RequestSizeLimit.Apply(context, MaxReturnFormBytes);
        var typed = "";
        string? token = null;
        try
        {
            using var reader = new FormReader(context.Request.Body) { ValueCountLimit = 4, KeyLengthLimit = 32, ValueLengthLimit = MaxReturnFormBytes };
            while (await reader.ReadNextPairAsync(cancellationToken) is { } pair)
            {
                switch (pair.Key)
                {
                    case "codename":
                        typed = pair.Value;
                        break;
                    case FormTokens.FieldName:
                        token = pair.Value;
                        break;
                }
            }
        }
        catch (Exception e) when (e is SubmissionRejectedException or InvalidDataException or BadHttpRequestException)
        {
            return pages.Return(lang, notFound: true, tokens.Issue(context));
        }

        // Without this, another site could sign a witness's browser into a thread of its own choosing.
        if (!tokens.IsValid(context, token))
        {
            return pages.Rejected(lang, SubmissionProblem.CrossSite);
        }

        if (await check.FindAsync(typed, cancellationToken) is not { } found)
        {
            return pages.Return(lang, notFound: true, tokens.Issue(context));
        }

        sessions.SignIn(context, found);
        return TypedResults.Redirect($"/{lang.Code}/thread");
    }

    private static async Task<IResult> ThreadPageAsync(string language, HttpContext context, WitnessSessions sessions, ThreadReplies replies,
        FormTokens tokens, WitnessPages pages, CancellationToken cancellationToken)
    {
        var lang = Language.Find(language)!;
        if (sessions.Current(context) is not { } thread)
        {
            return TypedResults.Redirect($"/{lang.Code}/return");
        }

        return pages.Thread(lang, await replies.ReadAsync(thread.SubmissionId, thread.UnlockKey, cancellationToken), tokens.Issue(context));
    }

    private static RedirectHttpResult SignOut(string language, HttpContext context, WitnessSessions sessions)
    {
        // Signing out is harmless to forge, but keep every witness post same-origin all the same.
        if (SameOriginPost.IsAllowed(context.Request))
        {
            sessions.SignOut(context);
        }

        return TypedResults.Redirect($"/{Language.Find(language)!.Code}");
    }

    private static FileStreamHttpResult StyleSheet()
    {
        var stream = typeof(WitnessEndpoints).Assembly.GetManifestResourceStream("static/site.css")!;
        return TypedResults.Stream(stream, "text/css; charset=utf-8");
    }
}
