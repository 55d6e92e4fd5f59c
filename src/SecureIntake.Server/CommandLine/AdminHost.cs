using System.CommandLine;
using SecureIntake.Server.Hosting;

namespace SecureIntake.Server.CommandLine;

/// <summary>A host without any role running, for one-shot admin commands that need settings and the database.</summary>
internal static class AdminHost
{
    public static async Task<(IHost Host, IReadOnlyList<string> AppliedMigrations)> StartAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory, Args = [] });
        Settings.Apply(builder.Configuration, parse);
        // Admin commands print their own results; the framework's informational logs would only bury them.
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSecureIntake(builder.Configuration, roles: 0);
        var host = builder.Build();
        try
        {
            return (host, await StartupChecks.PrepareDatabaseAsync(host.Services, cancellationToken));
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }
}
