using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace SecureIntake.Web.Security;

/// <summary>
/// A clearnet reverse proxy (deploy/clearnet) ends TLS and says so in X-Forwarded-Proto; only a connection from an
/// address in Web:TrustedProxies is believed, and none is by default (ASP.NET would trust loopback, where Tor
/// connects from, so any Tor user could claim https). Only the scheme is taken: X-Forwarded-For is never read, so the
/// witness's address never reaches the application, and X-Forwarded-Host is not either, so the Host check still holds.
/// With the scheme believed, cookies are Secure (they follow Request.IsHttps).
/// </summary>
internal static class TrustedProxies
{
    public static IServiceCollection AddTrustedProxies(this IServiceCollection services)
    {
        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<WebOptions>>((forwarded, web) =>
        {
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedProto;
            forwarded.ForwardLimit = 1;
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
            foreach (var proxy in web.Value.TrustedProxies)
            {
                forwarded.KnownProxies.Add(IPAddress.Parse(proxy));
            }
        });
        return services;
    }

    /// <summary>First in the pipeline, so everything after it sees the scheme the witness's browser used.</summary>
    public static WebApplication UseTrustedProxies(this WebApplication app)
    {
        var trusted = app.Services.GetRequiredService<IOptions<WebOptions>>().Value.TrustedProxies.Select(IPAddress.Parse).ToHashSet();
        if (trusted.Count > 0)
        {
            // ASP.NET believes a peer with no IP address at all (a Unix socket, which is how Tor reaches us), so the
            // middleware only runs for a connection from a listed address.
            app.UseWhen(context => context.Connection.RemoteIpAddress is { } peer && trusted.Contains(peer.IsIPv4MappedToIPv6 ? peer.MapToIPv4() : peer),
                proxied => proxied.UseForwardedHeaders());
        }

        return app;
    }
}
