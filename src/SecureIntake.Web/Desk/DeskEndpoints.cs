using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using SecureIntake.Web.Desk.Access;

namespace SecureIntake.Web.Desk;

/// <summary>
/// The editors' routes under /desk, grouped by who may use them: sign-in is open; the queue and submissions need a
/// browser session; the audit log and admin need an admin; the desk tool's API needs its bearer token. Every
/// browser post also passes the form check.
/// </summary>
public static class DeskEndpoints
{
    public static IEndpointRouteBuilder MapDesk(this IEndpointRouteBuilder endpoints)
    {
        var editors = endpoints.MapGroup("/desk").RequireAuthorization(DeskPolicies.Editor);
        var editorPosts = editors.MapGroup("").AddEndpointFilter<DeskFormCheck>();
        var account = endpoints.MapGroup("/desk").RequireAuthorization(DeskPolicies.Account);
        var accountPosts = account.MapGroup("").AddEndpointFilter<DeskFormCheck>();
        var admins = endpoints.MapGroup("/desk").RequireAuthorization(DeskPolicies.Admin);
        var adminPosts = admins.MapGroup("").AddEndpointFilter<DeskFormCheck>();

        endpoints.MapSignIn(accountPosts);
        editors.MapQueue(editorPosts);
        editors.MapSubmissions(editorPosts);
        account.MapAccount(accountPosts);
        admins.MapAdmin(adminPosts);
        endpoints.MapGroup("/desk/api").MapDeskApi();
        endpoints.MapGroup("/desk/api").RequireAuthorization(DeskPolicies.Tool).MapGrantApi();
        return endpoints;
    }
}
