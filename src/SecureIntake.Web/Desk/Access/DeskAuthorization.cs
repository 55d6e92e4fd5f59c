using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection;

namespace SecureIntake.Web.Desk.Access;

internal static class DeskAuthorization
{
    public static IServiceCollection AddDeskAuthorization(this IServiceCollection services)
    {
        // No default scheme: only routes that ask for a desk policy ever look at a desk cookie or token.
        services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, DeskBrowserHandler>(DeskSchemes.Browser, displayName: null, _ => { })
            .AddScheme<AuthenticationSchemeOptions, DeskToolHandler>(DeskSchemes.Tool, displayName: null, _ => { });
        services.AddAuthorizationBuilder()
            .AddPolicy(DeskPolicies.Account, policy => policy.AddAuthenticationSchemes(DeskSchemes.Browser).RequireAuthenticatedUser())
            .AddPolicy(DeskPolicies.Editor, policy => policy.AddAuthenticationSchemes(DeskSchemes.Browser).RequireAuthenticatedUser().RequireAssertion(NothingDue))
            .AddPolicy(DeskPolicies.Admin, policy => policy.AddAuthenticationSchemes(DeskSchemes.Browser).RequireRole(DeskClaims.AdminRole).RequireAssertion(NothingDue))
            .AddPolicy(DeskPolicies.Tool, policy => policy.AddAuthenticationSchemes(DeskSchemes.Tool).RequireAuthenticatedUser().RequireAssertion(NothingDue));
        return services;
    }

    /// <summary>Until an editor has replaced what an admin set or saw, that admin could be them: the desk stays shut.</summary>
    private static bool NothingDue(AuthorizationHandlerContext context) => !context.User.HasClaim(claim => claim.Type == DeskClaims.RenewalDue);
}
