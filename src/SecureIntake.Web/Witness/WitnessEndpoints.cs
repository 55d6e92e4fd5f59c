using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using SecureIntake.Core.Recipients;

namespace SecureIntake.Web.Witness;

/// <summary>
/// The witness's routes, each under its language: /en, /ru, /kk. Nothing here logs or stores who is
/// asking: no IP address, user agent or referrer.
/// </summary>
public static class WitnessEndpoints
{
    public static IEndpointRouteBuilder MapWitness(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/", (IOptions<WebOptions> web) => TypedResults.Redirect($"/{web.Value.DefaultLanguage}"));
        endpoints.MapGet("/static/site.css", StyleSheet);

        var witness = endpoints.MapGroup("/{language:regex(^(en|ru|kk)$)}");
        witness.MapGet("", (string language, WitnessPages pages) => pages.Landing(Language.Find(language)!));
        witness.MapGet("/submit", async (string language, WitnessPages pages, RecipientStore desks, CancellationToken cancellationToken) =>
            pages.Form(Language.Find(language)!, await desks.DeskNamesAsync(cancellationToken)));
        witness.MapPost("/submit", SubmitAsync);
        return endpoints;
    }

    private static async Task<ContentHttpResult> SubmitAsync(string language, HttpContext context, MultipartSubmission submission,
        WitnessPages pages, IOptions<IntakeLimits> limits, CancellationToken cancellationToken)
    {
        var lang = Language.Find(language)!;
        try
        {
            if (!SameOriginPost.IsAllowed(context.Request))
            {
                throw new SubmissionRejectedException(SubmissionProblem.CrossSite);
            }

            RequestSizeLimit.Apply(context, limits.Value.MaxRequestBytes);
            await submission.ReceiveAsync(context.Request, cancellationToken);
            return pages.Received(lang);
        }
        catch (SubmissionRejectedException rejected)
        {
            await RequestSizeLimit.DiscardRestAsync(context);
            return pages.Rejected(lang, rejected.Problem);
        }
    }

    private static FileStreamHttpResult StyleSheet()
    {
        var stream = typeof(WitnessEndpoints).Assembly.GetManifestResourceStream("static/site.css")!;
        return TypedResults.Stream(stream, "text/css; charset=utf-8");
    }
}
