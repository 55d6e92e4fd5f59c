using Hangfire;
using Hangfire.Dashboard;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using SecureIntake.Web.Desk.Access;

namespace SecureIntake.Web.Desk;

/// <summary>Hangfire's dashboard, inside the desk, behind the admin policy like the other admin pages (job arguments are ids, never content).</summary>
public static class DeskDashboard
{
    public const string Path = "/desk/hangfire";

    public static IEndpointRouteBuilder MapDeskDashboard(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHangfireDashboard(Path, new DashboardOptions
        {
            // Its own filters default to "local requests only"; the route's policy decides instead.
            Authorization = [],
            AsyncAuthorization = [],
            AppPath = "/desk",
            DashboardTitle = "SecureIntake jobs",
            DisplayStorageConnectionString = false,
        }).RequireAuthorization(DeskPolicies.Admin);
        return endpoints;
    }
}
