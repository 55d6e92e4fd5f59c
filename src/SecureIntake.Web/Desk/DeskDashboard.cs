using Hangfire;
using Hangfire.Dashboard;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using SecureIntake.Core.Editors;

namespace SecureIntake.Web.Desk;

/// <summary>Hangfire's dashboard, inside the desk, for admins only (job arguments are ids, never content).</summary>
public static class DeskDashboard
{
    public const string Path = "/desk/hangfire";

    public static WebApplication UseDeskDashboard(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseHangfireDashboard(Path, new DashboardOptions
        {
            Authorization = [],
            AsyncAuthorization = [new AdminsOnly()],
            AppPath = "/desk",
            DashboardTitle = "SecureIntake jobs",
            DisplayStorageConnectionString = false,
        });
        return app;
    }

    private sealed class AdminsOnly : IDashboardAsyncAuthorizationFilter
    {
        public async Task<bool> AuthorizeAsync(DashboardContext context)
        {
            var http = context.GetHttpContext();
            var editor = await http.RequestServices.GetRequiredService<DeskAccess>().BrowserEditorAsync(http);
            return editor?.Role == EditorRole.Admin;
        }
    }
}
