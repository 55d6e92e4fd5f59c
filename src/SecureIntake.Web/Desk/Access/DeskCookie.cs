using Microsoft.AspNetCore.Http;

namespace SecureIntake.Web.Desk.Access;

/// <summary>The browser session's cookie: HttpOnly, SameSite=Strict, only sent to /desk, Secure whenever the request was.</summary>
internal static class DeskCookie
{
    public const string Name = "si_desk";
    private const string Path = "/desk";

    public static string? Read(HttpRequest request) => request.Cookies[Name];

    public static void Set(HttpContext context, string token) =>
        context.Response.Cookies.Append(Name, token, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = context.Request.IsHttps,
            Path = Path,
            IsEssential = true,
        });

    public static void Delete(HttpContext context) => context.Response.Cookies.Delete(Name, new CookieOptions { Path = Path });
}
