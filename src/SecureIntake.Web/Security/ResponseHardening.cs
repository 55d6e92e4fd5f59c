using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace SecureIntake.Web.Security;

/// <summary>
/// First in the pipeline: puts the hardening headers on every response, error pages included, then
/// refuses unknown Host headers. (ASP.NET's own host filtering runs before any middleware of ours and
/// answers without these headers, so it is left unconfigured and this does the check.)
/// </summary>
internal sealed class ResponseHardening(RequestDelegate next, IOptions<WebOptions> options)
{
    // Pages need only their own stylesheet and images, and post only to themselves.
    internal const string ContentSecurityPolicy =
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    internal const string PermissionsPolicy =
        "accelerometer=(), ambient-light-sensor=(), autoplay=(), battery=(), camera=(), display-capture=(), document-domain=(), " +
        "encrypted-media=(), fullscreen=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), " +
        "picture-in-picture=(), publickey-credentials-get=(), screen-wake-lock=(), sync-xhr=(), usb=(), xr-spatial-tracking=(), " +
        "interest-cohort=(), browsing-topics=()";

    private readonly IList<string> _allowedHosts = options.Value.AllowedHosts;

    public Task InvokeAsync(HttpContext context)
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        headers["Cross-Origin-Resource-Policy"] = "same-origin";
        headers["Permissions-Policy"] = PermissionsPolicy;
        headers["X-Robots-Tag"] = "noindex, nofollow";
        headers.CacheControl = "no-store";

        if (!IsAllowed(context.Request.Host))
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            context.Response.ContentType = "text/plain; charset=utf-8";
            return context.Response.WriteAsync("400 Bad Request: unknown host\n", context.RequestAborted);
        }

        return next(context);
    }

    private bool IsAllowed(HostString host)
    {
        if (!host.HasValue)
        {
            return false;
        }

        var name = host.Host;
        foreach (var allowed in _allowedHosts)
        {
            if (allowed == "*"
                || string.Equals(allowed, name, StringComparison.OrdinalIgnoreCase)
                || (allowed.StartsWith("*.", StringComparison.Ordinal) && name.EndsWith(allowed[1..], StringComparison.OrdinalIgnoreCase)))
            {
                return true;
            }
        }

        return false;
    }
}
