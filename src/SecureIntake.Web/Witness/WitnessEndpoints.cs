using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace SecureIntake.Web.Witness;

/// <summary>The witness's routes. Nothing here logs or stores who is asking: no IP, user agent or referrer.</summary>
public static class WitnessEndpoints
{
    public static IEndpointRouteBuilder MapWitness(this IEndpointRouteBuilder endpoints)
    {
        var witness = endpoints.MapGroup("");
        witness.MapPost("/submit", SubmitAsync);
        return endpoints;
    }

    private static async Task<ContentHttpResult> SubmitAsync(HttpContext context, MultipartSubmission submission, IOptions<IntakeLimits> limits, CancellationToken cancellationToken)
    {
        try
        {
            RequestSizeLimit.Apply(context, limits.Value.MaxRequestBytes);
            await submission.ReceiveAsync(context.Request, cancellationToken);
            return WitnessPages.Received();
        }
        catch (SubmissionRejectedException rejected)
        {
            await RequestSizeLimit.DiscardRestAsync(context);
            return WitnessPages.Rejected(rejected.Problem, limits.Value);
        }
    }
}
