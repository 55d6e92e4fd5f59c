using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using SecureIntake.Server.Hosting;
using SecureIntake.Testing;
using SecureIntake.Web;
using SecureIntake.Web.Desk.Access;

namespace SecureIntake.Server.Tests.Desk;

/// <summary>
/// The route table itself: a desk route someone adds later without a policy would be open to anyone who reaches
/// the desk listener, so every /desk route must name one, and only the sign-in routes may be open.
/// </summary>
public sealed class DeskRouteTableTests
{
    private static readonly string[] OpenRoutes = ["/desk/sign-in", "/desk/api/sign-in"];
    private static readonly string[] AccountRoutes = ["/desk/account", "/desk/sign-out", "/desk/language"];

    [Fact]
    public async Task Every_desk_route_but_sign_in_requires_a_desk_policy_and_admin_pages_the_admin_one()
    {
        var routes = await DeskRoutesAsync();
        Assert.Contains(routes, r => r.Pattern == "/desk/submissions/{id:guid}/reply");

        foreach (var (pattern, policies) in routes)
        {
            if (OpenRoutes.Contains(pattern))
            {
                Assert.Empty(policies);
                continue;
            }

            Assert.True(policies.Count > 0, $"{pattern} names no policy");
            Assert.All(policies, p => Assert.Contains(p, new[] { DeskPolicies.Editor, DeskPolicies.Admin, DeskPolicies.Tool, DeskPolicies.Account }));
            // Only what an editor needs before the desk opens to them skips the "nothing due" check.
            var expected = AccountRoutes.Any(route => pattern.StartsWith(route, StringComparison.Ordinal)) ? DeskPolicies.Account
                : pattern.StartsWith("/desk/admin", StringComparison.Ordinal) || pattern.StartsWith("/desk/audit", StringComparison.Ordinal)
                || pattern.StartsWith("/desk/hangfire", StringComparison.Ordinal) ? DeskPolicies.Admin
                : pattern.StartsWith("/desk/api/", StringComparison.Ordinal) ? DeskPolicies.Tool
                : DeskPolicies.Editor;
            Assert.True(policies.Contains(expected), $"{pattern} asks for {string.Join(", ", policies)}, not {expected}");
        }
    }

    private static async Task<List<(string Pattern, List<string> Policies)>> DeskRoutesAsync()
    {
        // The dashboard opens Hangfire's storage when it is mapped, so the app gets a real (empty) database.
        var database = await (await PostgresCluster.GetSharedAsync()).CreateDatabaseAsync();
        var builder = WebApplication.CreateBuilder();
        builder.Configuration["Database:ConnectionString"] = database;
        builder.Services.AddSecureIntake(builder.Configuration, ServiceRoles.Web);
        builder.Services.AddSecureIntakeWeb(builder.Configuration);
        await using var app = builder.Build();
        app.UseSecureIntakeWeb();
        app.MapSecureIntakeRoutes();
        return ((IEndpointRouteBuilder)app).DataSources.SelectMany(source => source.Endpoints).OfType<RouteEndpoint>()
            .Select(e => (Pattern: "/" + e.RoutePattern.RawText!.TrimStart('/'), Policies: e.Metadata.GetOrderedMetadata<IAuthorizeData>()
                .Select(a => a.Policy).OfType<string>().ToList()))
            .Where(r => r.Pattern.StartsWith("/desk", StringComparison.Ordinal))
            .ToList();
    }
}
