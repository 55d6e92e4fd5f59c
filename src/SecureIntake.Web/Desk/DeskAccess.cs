using Microsoft.AspNetCore.Http;
using SecureIntake.Core.Editors;

namespace SecureIntake.Web.Desk;

/// <summary>
/// Who is asking, on desk routes: a browser session cookie (HttpOnly, SameSite=Strict, path /desk) or, on
/// the API, a bearer token of the desk tool. The two kinds are never interchangeable.
/// </summary>
internal sealed class DeskAccess(DeskSessions sessions)
{
    public const string CookieName = "si_desk";
    private const string EditorItem = "secureintake.editor";
    private const string TokenItem = "secureintake.desk-token";

    public async Task<Editor?> BrowserEditorAsync(HttpContext context)
    {
        var token = context.Request.Cookies[CookieName];
        var editor = await sessions.FindAsync(token, DeskSessionKind.Browser, context.RequestAborted);
        if (editor is not null)
        {
            context.Items[EditorItem] = editor;
            context.Items[TokenItem] = token;
        }

        return editor;
    }

    public async Task<Editor?> ToolEditorAsync(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        var token = header.StartsWith("Bearer ", StringComparison.Ordinal) ? header["Bearer ".Length..].Trim() : null;
        var editor = await sessions.FindAsync(token, DeskSessionKind.Tool, context.RequestAborted);
        if (editor is not null)
        {
            context.Items[EditorItem] = editor;
        }

        return editor;
    }

    /// <summary>The editor an access filter let through.</summary>
    public static Editor Editor(HttpContext context) => (Editor)context.Items[EditorItem]!;

    /// <summary>The value desk forms must carry: only the holder of this browser session can compute it.</summary>
    public static string FormToken(HttpContext context) => DeskSessions.FormToken((string)context.Items[TokenItem]!);

    public static void SetCookie(HttpContext context, string token) =>
        context.Response.Cookies.Append(CookieName, token, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = context.Request.IsHttps,
            Path = "/desk",
            IsEssential = true,
        });

    public async Task SignOutAsync(HttpContext context)
    {
        if (context.Request.Cookies[CookieName] is { } token)
        {
            await sessions.EndAsync(token, context.RequestAborted);
        }

        context.Response.Cookies.Delete(CookieName, new CookieOptions { Path = "/desk" });
    }
}
