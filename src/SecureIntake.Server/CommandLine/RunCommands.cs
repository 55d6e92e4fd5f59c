using System.CommandLine;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using SecureIntake.Server.Hosting;
using SecureIntake.Web;
using SecureIntake.Web.Desk;
using SecureIntake.Web.Witness;

namespace SecureIntake.Server.CommandLine;

/// <summary>The long-running roles: web (Kestrel), worker (Hangfire server), or both in one process.</summary>
internal static class RunCommands
{
    public static Command Role(string name, string description, ServiceRoles roles)
    {
        var command = new Command(name, description);
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((parse, cancellationToken) => RunAsync(parse, roles, cancellationToken));
        return command;
    }

    public static Task<int> RunAsync(ParseResult parse, ServiceRoles roles, CancellationToken cancellationToken) => CommandErrors.RunAsync(async () =>
    {
        IHost host;
        WebListeners? listeners = null;
        if (roles.HasFlag(ServiceRoles.Web))
        {
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory, Args = [] });
            Configure(builder, parse, roles);
            var web = WebListeners.Read(builder.Configuration);
            listeners = web;
            // Bound listener by listener instead; left set, any of these would make Kestrel warn that it overrides them.
            foreach (var key in new[] { WebHostDefaults.ServerUrlsKey, WebHostDefaults.HttpPortsKey, WebHostDefaults.HttpsPortsKey })
            {
                builder.WebHost.UseSetting(key, "");
            }

            builder.WebHost.ConfigureKestrel(web.Bind);
            builder.Services.AddSecureIntakeWeb(builder.Configuration);
            builder.WebHost.ConfigureKestrel(kestrel =>
            {
                kestrel.AddServerHeader = false;
                // Tor circuits stall for many seconds: the rate a body must keep on average is judged only after a grace as
                // long as the stall time-out, while idle connections and slowly trickled headers get little time (slow-loris).
                var intake = kestrel.ApplicationServices.GetRequiredService<IOptions<IntakeLimits>>().Value;
                kestrel.Limits.MinRequestBodyDataRate = intake.MinBytesPerSecond == 0
                    ? null
                    : new MinDataRate(bytesPerSecond: intake.MinBytesPerSecond, gracePeriod: TimeSpan.FromSeconds(intake.StallSeconds));
                kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(15);
                kestrel.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(60);
                // An idle connection costs a few KiB and is dropped after the header timeout; a low cap would let a
                // thousand of them shut the door on every witness.
                kestrel.Limits.MaxConcurrentConnections = 16_384;
                kestrel.Limits.MaxRequestHeadersTotalSize = 16 * 1024;
            });
            var app = builder.Build();
            app.UseSecureIntakeWeb();
            app.MapSecureIntakeRoutes();
            host = app;
        }
        else
        {
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory, Args = [] });
            Configure(builder, parse, roles);
            host = builder.Build();
        }

        using (host)
        {
            await StartupChecks.PrepareDatabaseAsync(host.Services, cancellationToken);
            await StartupChecks.EnsureIntakeCanEncryptAsync(host.Services, cancellationToken);
            listeners?.RemoveStaleSockets();
            await host.StartAsync(cancellationToken);
            listeners?.Started(host.Services.GetRequiredService<ILoggerFactory>().CreateLogger<WebListeners>());
            await host.WaitForShutdownAsync(cancellationToken);
        }

        return 0;
    });

    private static void Configure(IHostApplicationBuilder builder, ParseResult parse, ServiceRoles roles)
    {
        Settings.Apply(builder.Configuration, parse);
        builder.Services.AddSecureIntake(builder.Configuration, roles);
    }
}
