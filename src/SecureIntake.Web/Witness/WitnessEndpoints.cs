using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using SecureIntake.Core.Recipients;
using SecureIntake.Core.Replies;
using SecureIntake.Web.Pages;

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
        // HEAD answers as GET does, without the body (Kestrel drops what a HEAD response writes).
        string[] read = [HttpMethods.Get, HttpMethods.Head];
        endpoints.MapMethods("/", read, (IOptions<WebOptions> web) => TypedResults.Redirect($"/{web.Value.DefaultLanguage}"));
        endpoints.MapMethods("/static/site.css", read, StyleSheet);

        var witness = endpoints.MapGroup("/{language:regex(^(en|ru|kk)$)}");
        witness.MapMethods("", read, (string language) => WitnessPages.Landing(Language.Find(language)!));
        witness.MapMethods("/submit", read, async (string language, HttpContext context, FormTokens tokens, WitnessPages pages, RecipientStore desks,
            CancellationToken cancellationToken) => pages.Form(Language.Find(language)!, await desks.DeskNamesAsync(cancellationToken), tokens.Issue(context)));
        witness.MapPost("/submit", SubmitAsync);
        witness.MapMethods("/return", read, (string language, HttpContext context, FormTokens tokens) =>
            WitnessPages.Return(Language.Find(language)!, notFound: false, tokens.Issue(context)));
        witness.MapPost("/return", ReturnAsync);
        witness.MapMethods("/thread", read, ThreadPageAsync);
        witness.MapPost("/thread", FollowUpAsync);
        witness.MapPost("/signout", SignOut);
        return endpoints;
    }

    private static async Task<HtmlPage> SubmitAsync(string language, HttpContext context, MultipartSubmission submission,
        WitnessPages pages, IOptions<IntakeLimits> limits, CancellationToken cancellationToken)
    {
        var lang = Language.Find(language)!;
        PostBody? body = null;
        try
        {
            body = Guard(context, limits.Value);
            var received = await submission.ReceiveAsync(context, body, followUpOf: null, cancellationToken);
            return WitnessPages.Received(lang, received.Codename!);
        }
        catch (SubmissionRejectedException rejected)
        {
            return await RefuseAsync(context, body, pages, lang, rejected);
        }
    }

    private static async Task<HtmlPage> FollowUpAsync(string language, HttpContext context, MultipartSubmission submission,
        WitnessSessions sessions, WitnessPages pages, IOptions<IntakeLimits> limits, CancellationToken cancellationToken)
    {
        var lang = Language.Find(language)!;
        PostBody? body = null;
        try
        {
            body = Guard(context, limits.Value);
            var thread = sessions.Current(context) ?? throw new SubmissionRejectedException(SubmissionProblem.SignedOut);
            await submission.ReceiveAsync(context, body, thread.SubmissionId, cancellationToken);
            return WitnessPages.FollowUpReceived(lang);
        }
        catch (SubmissionRejectedException rejected)
        {
            if (rejected.Problem == SubmissionProblem.ThreadGone)
            {
                sessions.SignOut(context);
            }

            return await RefuseAsync(context, body, pages, lang, rejected);
        }
    }

    /// <summary>Same-origin check, then the body's size and stall guards, before any of it is read.</summary>
    private static PostBody Guard(HttpContext context, IntakeLimits limits) =>
        SameOriginPost.IsAllowed(context.Request)
            ? PostBody.Guard(context, limits.MaxRequestBytes, TimeSpan.FromSeconds(limits.StallSeconds))
            : throw new SubmissionRejectedException(SubmissionProblem.CrossSite);

    /// <summary>
    /// The refusal page, after draining what the browser is still sending so it can show it; when that is not
    /// possible (a stalled or endless body), the connection closes after the page.
    /// </summary>
    private static async Task<HtmlPage> RefuseAsync(HttpContext context, PostBody? body, WitnessPages pages, Language language,
        SubmissionRejectedException rejected)
    {
        if (body is null || !await body.TryDrainAsync(rejected.Problem))
        {
            context.Response.Headers.Connection = "close";
        }

        if (rejected.RetryAfter is { } retryAfter)
        {
            context.Response.Headers.RetryAfter = ((long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return pages.Rejected(language, rejected.Problem, rejected.RetryAfter);
    }

    private static async Task<Results<HtmlPage, RedirectHttpResult>> ReturnAsync(string language, HttpContext context, CodenameCheck check,
        WitnessSessions sessions, FormTokens tokens, WitnessPages pages, CancellationToken cancellationToken)
    {
        var lang = Language.Find(language)!;
        PostBody? body = null;
        string? typed = null;
        string? token = null;
        try
        {
            body = SameOriginPost.IsAllowed(context.Request)
                ? PostBody.Guard(context, MaxReturnFormBytes, TimeSpan.FromSeconds(30))
                : throw new SubmissionRejectedException(SubmissionProblem.CrossSite);

            // A tiny urlencoded form, read pair by pair with hard limits into memory; nothing goes to disk.
            using var reader = new FormReader(body) { ValueCountLimit = 4, KeyLengthLimit = 32, ValueLengthLimit = MaxReturnFormBytes };
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
        catch (SubmissionRejectedException rejected) when (rejected.Problem != SubmissionProblem.TooLarge)
        {
            return await RefuseAsync(context, body, pages, lang, rejected);
        }
        catch (Exception e) when (e is SubmissionRejectedException or InvalidDataException or BadHttpRequestException or IOException)
        {
            // Far longer than any codename: say so as for a wrong one, at once, with no hashing.
            await (body?.TryDrainAsync(SubmissionProblem.TooLarge) ?? Task.FromResult(false));
            return WitnessPages.Return(lang, notFound: true, tokens.Issue(context));
        }

        // Without this, another site could sign a witness's browser into a thread of its own choosing.
        if (!tokens.IsValid(context, token))
        {
            return pages.Rejected(lang, SubmissionProblem.CrossSite);
        }

        try
        {
            if (await check.FindAsync(typed ?? "", cancellationToken) is not { } found)
            {
                return WitnessPages.Return(lang, notFound: true, tokens.Issue(context));
            }

            sessions.SignIn(context, found);
            return TypedResults.Redirect($"/{lang.Code}/thread");
        }
        catch (SubmissionRejectedException busy)
        {
            return await RefuseAsync(context, body, pages, lang, busy);
        }
    }

    private static async Task<Results<HtmlPage, RedirectHttpResult>> ThreadPageAsync(string language, HttpContext context, WitnessSessions sessions,
        ThreadReplies replies, FormTokens tokens, WitnessPages pages, CancellationToken cancellationToken)
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
