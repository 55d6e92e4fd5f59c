using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using SecureIntake.Web.Security;

namespace SecureIntake.Web.Listeners;

/// <summary>
/// Answers 404 for the other audience's routes: /desk (pages, API, job dashboard) only on the desk listener, the
/// witness pages only on the witness listener; the health check, robots.txt and the stylesheet on both. The 404 is
/// the one any unknown path gets, so the witness listener gives no hint that a desk exists. A connection from a
/// listener we did not mark (say, one added through Kestrel's own settings) gets only the shared routes.
/// </summary>
internal sealed class AudienceSplit(RequestDelegate next)
{
    private static readonly PathString Desk = new("/desk");
    private static readonly PathString[] Shared = [new("/healthz"), new("/robots.txt"), new("/static")];

    public Task InvokeAsync(HttpContext context)
    {
        var audience = AudienceListeners.Of(context);
        // Both the path and, when routing chose one, the endpoint's own pattern must belong here: a path that routing
        // reads differently from a plain prefix test cannot slip a desk route onto the witness side.
        var pattern = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText;
        if (IsServed(context.Request.Path, audience) && (pattern is null || IsServed(Normalized(pattern), audience)))
        {
            if (audience == Audience.Desk)
            {
                // That header names the witness onion service; the desk has its own address.
                context.Response.Headers.Remove("Onion-Location");
            }

            return next(context);
        }

        // The dashboard's looser policy would tell a /desk/hangfire 404 apart from any other.
        context.Response.Headers.ContentSecurityPolicy = ResponseHardening.ContentSecurityPolicy;
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        return Task.CompletedTask;
    }

    private static bool IsServed(PathString path, Audience? audience)
    {
        if (Array.Exists(Shared, shared => path.StartsWithSegments(shared)))
        {
            return true;
        }

        return audience switch
        {
            Audience.Desk => path.StartsWithSegments(Desk),
            Audience.Witness => !path.StartsWithSegments(Desk),
            _ => false,
        };
    }

    private static PathString Normalized(string pattern) => new(pattern.StartsWith('/') ? pattern : "/" + pattern);
}
