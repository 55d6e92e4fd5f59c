using Microsoft.AspNetCore.Authentication;
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
            .AddPolicy(DeskPolicies.Editor, policy => policy.AddAuthenticationSchemes(DeskSchemes.Browser).RequireAuthenticatedUser())
            .AddPolicy(DeskPolicies.Admin, policy => policy.AddAuthenticationSchemes(DeskSchemes.Browser).RequireRole(DeskClaims.AdminRole))
            .AddPolicy(DeskPolicies.Tool, policy => policy.AddAuthenticationSchemes(DeskSchemes.Tool).RequireAuthenticatedUser());
        return services;
    }
}
