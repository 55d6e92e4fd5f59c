using System.Net;
using System.Net.Sockets;

namespace SecureIntake.Server.Tests.Witness;

/// <summary>A service behind a clearnet reverse proxy that connects from 127.0.0.2, as deploy/clearnet/nginx.conf does.</summary>
public sealed class ProxiedService() : WitnessTestService("si-proxy-blobs-", "--Web:TrustedProxies:0=127.0.0.2");

/// <summary>The same, with its onion address configured.</summary>
public sealed class ProxiedOnionService() : WitnessTestService("si-proxy-onion-blobs-", "--Web:TrustedProxies:0=127.0.0.2",
    $"--Web:OnionAddress={ClearnetProxyTests.Onion}", $"--Web:AllowedHosts:9={ClearnetProxyTests.Onion}");

public sealed class ClearnetProxyTests(ProxiedService service, ProxiedOnionService onionService) : IClassFixture<ProxiedService>, IClassFixture<ProxiedOnionService>
{
    public const string Onion = "secureintakeproxytestonionaddressxxxxxxxxxxxxxxxxxxxxxxxxxx.onion";

    [Fact]
    public async Task A_forged_forwarded_https_from_an_address_that_is_not_the_proxy_leaves_cookies_without_Secure()
    {
        using var client = new HttpClient { BaseAddress = service.Address };

        var cookie = await FormCookieAsync(client);

        Assert.DoesNotContain("secure", cookie, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Behind_the_proxy_a_page_asked_for_over_https_sets_Secure_cookies()
    {
        using var proxy = FromProxyAddress(service.Address);

        var cookie = await FormCookieAsync(proxy);

        Assert.Contains("; secure", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Behind_the_proxy_a_page_asked_for_over_plain_http_sets_no_Secure_cookie()
    {
        using var proxy = FromProxyAddress(service.Address);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/en/submit");
        request.Headers.Add("X-Forwarded-Proto", "http");

        using var response = await proxy.SendAsync(request);

        Assert.DoesNotContain("secure", string.Join("\n", response.Headers.GetValues("Set-Cookie")), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Without_an_onion_address_configured_no_page_carries_Onion_Location()
    {
        using var proxy = FromProxyAddress(service.Address);

        using var response = await proxy.GetAsync(new Uri("/en/submit", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("Onion-Location"));
    }

    [Fact]
    public async Task With_an_onion_address_clearnet_pages_carry_Onion_Location_and_onion_pages_do_not()
    {
        using var proxy = FromProxyAddress(onionService.Address);
        using (var clearnet = await proxy.GetAsync(new Uri("/kk/submit", UriKind.Relative)))
        {
            Assert.Equal($"http://{Onion}/kk/submit", clearnet.Headers.GetValues("Onion-Location").Single());
        }

        using var overTor = new HttpClient { BaseAddress = onionService.Address };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/kk/submit");
        request.Headers.Host = Onion;
        using var onion = await overTor.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, onion.StatusCode);
        Assert.False(onion.Headers.Contains("Onion-Location"));
    }

    /// <summary>The form page's Set-Cookie, asked for with X-Forwarded-Proto: https.</summary>
    private static async Task<string> FormCookieAsync(HttpClient client)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/en/submit");
        request.Headers.Add("X-Forwarded-Proto", "https");
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return Assert.Single(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("si_form=", StringComparison.Ordinal));
    }

    /// <summary>A client whose connections come from 127.0.0.2, the proxy's address.</summary>
    private static HttpClient FromProxyAddress(Uri address)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    socket.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { BaseAddress = address };
    }
}
