using Microsoft.AspNetCore.Http;
using SecureIntake.Core.Editors;

namespace SecureIntake.Web.Desk.Access;

/// <summary>
/// The signed-in editor a desk handler works for, bound from the request's user once authorization let it through.
/// It carries the desks the editor may see, and on browser routes the session's form token, which every page's forms embed.
/// </summary>
internal sealed record DeskUser(Editor Editor, DeskScope Scope, string FormToken)
{
    public Guid Id => Editor.Id;

    public string Name => Editor.Name;

    public bool IsAdmin => Editor.Role == EditorRole.Admin;

    /// <summary>Only reached behind a desk policy; anywhere else the binding fails, and the route with it.</summary>
    public static ValueTask<DeskUser?> BindAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return ValueTask.FromResult(From(context));
    }

    public static DeskUser? From(HttpContext context) =>
        DeskClaims.EditorOf(context.User) is { } editor
            ? new DeskUser(editor, DeskClaims.ScopeOf(context.User), context.User.FindFirst(DeskClaims.FormToken)?.Value ?? "")
            : null;
}
