using System.Security.Claims;
using SecureIntake.Core.Editors;

namespace SecureIntake.Web.Desk.Access;

/// <summary>How a desk session is written into the request's user, and read back as the editor handlers work for.</summary>
internal static class DeskClaims
{
    public const string AdminRole = "admin";
    public const string EditorRole = "editor";

    /// <summary>The value this browser session's forms must carry; absent for the desk tool, which posts no forms.</summary>
    public const string FormToken = "secureintake:form-token";

    /// <summary>One claim per desk an editor is a member of; an admin's scope is every desk and carries none.</summary>
    public const string Desk = "secureintake:desk";

    /// <summary>Present while the editor must still replace a password or second factor an admin set or saw.</summary>
    public const string RenewalDue = "secureintake:renewal-due";

    public static ClaimsPrincipal Principal(DeskSession session, string? formToken, string scheme)
    {
        ArgumentNullException.ThrowIfNull(session);
        var editor = session.Editor;
        var claims = new List<Claim>
        {
            new(ClaimTypes.NameIdentifier, editor.Id.ToString("D")),
            new(ClaimTypes.Name, editor.Name),
            new(ClaimTypes.Role, editor.Role == Core.Editors.EditorRole.Admin ? AdminRole : EditorRole),
            new(DeskLanguage.Claim, session.Language),
        };
        if (session.Due.Any)
        {
            claims.Add(new Claim(RenewalDue, "yes"));
        }

        claims.AddRange(session.Scope.DeskIds.Select(desk => new Claim(Desk, desk.ToString("D"))));
        if (formToken is not null)
        {
            claims.Add(new Claim(FormToken, formToken));
        }

        return new ClaimsPrincipal(new ClaimsIdentity(claims, scheme, ClaimTypes.Name, ClaimTypes.Role));
    }

    /// <summary>What the user may see: every desk for an admin, otherwise the desks their claims name (none, if none).</summary>
    public static DeskScope ScopeOf(ClaimsPrincipal user) =>
        user.IsInRole(AdminRole) ? DeskScope.Everything : DeskScope.Of(user.FindAll(Desk).Select(claim => Guid.Parse(claim.Value)));

    /// <summary>The editor a desk scheme authenticated, or null for anyone else.</summary>
    public static Editor? EditorOf(ClaimsPrincipal user)
    {
        if (user.Identity is not { IsAuthenticated: true, AuthenticationType: DeskSchemes.Browser or DeskSchemes.Tool }
            || !Guid.TryParse(user.FindFirstValue(ClaimTypes.NameIdentifier), out var id)
            || user.FindFirstValue(ClaimTypes.Name) is not { } name)
        {
            return null;
        }

        return new Editor(id, name, user.IsInRole(AdminRole) ? Core.Editors.EditorRole.Admin : Core.Editors.EditorRole.Editor, Disabled: false);
    }
}
