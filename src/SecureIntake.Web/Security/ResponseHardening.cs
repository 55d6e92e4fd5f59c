using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace SecureIntake.Web.Security;

/// <summary>
/// First in the pipeline: puts the hardening headers on every response, error pages included, then
/// refuses unknown Host headers. (ASP.NET's own host filtering runs before any middleware of ours and
/// answers without these headers, so it is left unconfigured and this does the check.)
/// </summary>
internal sealed partial class ResponseHardening(RequestDelegate next, IOptions<WebOptions> options, ILogger<ResponseHardening> logger)
{
    // Pages need only their own stylesheet and images, and post only to themselves.
    internal const string ContentSecurityPolicy =
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    // Hangfire's dashboard (admins only, inside the desk) runs its own scripts and inline styles from this origin.
    internal const string DashboardContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; " +
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    internal const string PermissionsPolicy =
        "accelerometer=(), ambient-light-sensor=(), autoplay=(), battery=(), camera=(), display-capture=(), document-domain=(), " +
        "encrypted-media=(), fullscreen=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), " +
        "picture-in-picture=(), publickey-credentials-get=(), screen-wake-lock=(), sync-xhr=(), usb=(), xr-spatial-tracking=(), " +
        "interest-cohort=(), browsing-topics=()";

    private readonly IList<string> _allowedHosts = options.Value.AllowedHosts;
    private readonly string? _onionAddress = string.IsNullOrWhiteSpace(options.Value.OnionAddress) ? null : options.Value.OnionAddress.Trim();

    public async Task InvokeAsync(HttpContext context)
    {
        SetHeaders(context.Response.Headers);
        if (context.Request.Path.StartsWithSegments("/desk/hangfire", StringComparison.Ordinal))
        {
            context.Response.Headers.ContentSecurityPolicy = DashboardContentSecurityPolicy;
        }

        if (_onionAddress is not null && !string.Equals(context.Request.Host.Host, _onionAddress, StringComparison.OrdinalIgnoreCase))
        {
            context.Response.Headers["Onion-Location"] = $"http://{_onionAddress}{context.Request.Path.ToUriComponent()}";
        }

        if (!IsAllowed(context.Request.Host))
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync("400 Bad Request: unknown host\n", context.RequestAborted);
            return;
        }

        try
        {
            await next(context);
        }
        catch (Exception e) when (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
        {
            // The type only: messages can carry data, and nothing about the request is logged.
            LogUnexpected(logger, e.GetType().FullName ?? "unknown");
            context.Response.Clear();
            SetHeaders(context.Response.Headers);
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            context.Response.ContentType = "text/html; charset=utf-8";
            await context.Response.WriteAsync(
                "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Something went wrong</title></head><body><main>" +
                "<h1>Something went wrong</h1><p>What you sent may not have been kept. Please try again later.</p></main></body></html>",
                context.RequestAborted);
        }
    }

    private static void SetHeaders(IHeaderDictionary headers)
    {
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        headers["Cross-Origin-Resource-Policy"] = "same-origin";
        headers["Permissions-Policy"] = PermissionsPolicy;
        headers["X-Robots-Tag"] = "noindex, nofollow";
        headers.CacheControl = "no-store";
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "A request failed with {ExceptionType}")]
    private static partial void LogUnexpected(ILogger logger, string exceptionType);

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
