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

    // The fixed 500 page, a static file (Static/error.html) read once: it must show even when templates or services are what failed.
    private static readonly ReadOnlyMemory<byte> ErrorPage = ReadErrorPage();

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
            context.Response.ContentLength = ErrorPage.Length;
            await context.Response.Body.WriteAsync(ErrorPage, context.RequestAborted);
        }
    }

    private static byte[] ReadErrorPage()
    {
        using var stream = typeof(ResponseHardening).Assembly.GetManifestResourceStream("static/error.html")
            ?? throw new InvalidOperationException("the error page is embedded in the web assembly");
        using var bytes = new MemoryStream();
        stream.CopyTo(bytes);
        return bytes.ToArray();
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
