using Microsoft.AspNetCore.Http;

namespace SecureIntake.Web.Witness;

/// <summary>
/// Refuses form posts that another site made a witness's browser send. With Referrer-Policy: no-referrer,
/// Chromium and Firefox send "Origin: null" even on same-origin posts, so Sec-Fetch-Site decides when the
/// browser sends it; otherwise a non-null Origin must be this host. A request with neither comes from no
/// browser, and so from no one a forged post could be made through.
/// </summary>
internal static class SameOriginPost
{
    public static bool IsAllowed(HttpRequest request)
    {
        var fetchSite = request.Headers["Sec-Fetch-Site"].ToString();
        if (fetchSite.Length > 0)
        {
            return fetchSite is "same-origin" or "none";
        }

        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0)
        {
            return true;
        }

        return origin != "null"
            && Uri.TryCreate(origin, UriKind.Absolute, out var uri)
            && string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }
}
