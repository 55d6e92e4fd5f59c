using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using SecureIntake.Server.CommandLine;
using SecureIntake.Server.Hosting;
using SecureIntake.Testing;

namespace SecureIntake.Server.Tests.Hosting;

/// <summary>`Urls` and `Desk:Urls`: the address forms the web role binds, and the ones that stop it at start.</summary>
[Collection(ServerTestKeysGroup.Name)]
public sealed class ListenerSettingsTests(ServerTestKeys keys)
{
    [Theory]
    [InlineData("http://127.0.0.1:5081", "127.0.0.1", 5081)]
    [InlineData("http://localhost:5081", null, 5081)]
    [InlineData("http://[::1]:5081", "::1", 5081)]
    [InlineData("http://0.0.0.0:80/", "0.0.0.0", 80)]
    [InlineData("HTTP://[::]:65535", "::", 65535)]
    public void Tcp_addresses_are_ip_literals_or_localhost_with_a_port(string text, string? ip, int port)
    {
        var address = Assert.IsType<TcpAddress>(ListenAddress.Parse("Desk:Urls", text));

        Assert.Equal(ip is null ? null : IPAddress.Parse(ip), address.Ip);
        Assert.Equal(port, address.Port);
    }

    [Fact]
    public void A_unix_socket_is_written_as_kestrel_writes_it()
    {
        var address = Assert.IsType<UnixSocketAddress>(ListenAddress.Parse("Urls", "http://unix:/run/secureintake/witness.sock"));

        Assert.Equal("/run/secureintake/witness.sock", address.SocketPath);
    }

    [Theory]
    [InlineData("https://127.0.0.1:5443", "is https")]
    [InlineData("desk-please", "is not an address")]
    [InlineData("ftp://127.0.0.1:21", "is not an address")]
    [InlineData("http://127.0.0.1", "names no port")]
    [InlineData("http://127.0.0.1:0", "no valid port")]
    [InlineData("http://127.0.0.1:70000", "no valid port")]
    [InlineData("http://127.0.0.1:50x1", "no valid port")]
    [InlineData("http://example.org:5081", "must name an IP address")]
    [InlineData("http://*:5081", "must name an IP address")]
    [InlineData("http://127.1:5081", "must name an IP address")]
    [InlineData("http://127.0.0.1:5081/desk", "has a path")]
    [InlineData("http://unix:run/desk.sock", "absolute socket path")]
    public void Anything_else_is_refused_with_the_setting_named(string text, string reason)
    {
        var refused = Assert.Throws<SettingsException>(() => ListenAddress.Parse("Desk:Urls", text));

        Assert.StartsWith("Desk:Urls: ", refused.Message, StringComparison.Ordinal);
        Assert.Contains(reason, refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://127.0.0.1:5080", "http://127.0.0.1:5080")]
    [InlineData("http://0.0.0.0:5080", "http://127.0.0.1:5080")]
    [InlineData("http://127.0.0.1:5080", "http://localhost:5080")]
    [InlineData("http://[::]:5080", "http://127.0.0.1:5080")]
    [InlineData("http://127.0.0.1:5080;http://unix:/run/si/web.sock", "http://unix:/run/si/web.sock")]
    public void The_desk_cannot_share_an_address_with_the_witness_form(string witness, string desk)
    {
        var refused = Assert.Throws<SettingsException>(() => WebListeners.Read(Settings(witness, desk)));

        Assert.StartsWith("Desk:Urls: ", refused.Message, StringComparison.Ordinal);
        Assert.Contains("of its own", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Several_addresses_are_separated_by_semicolons_and_the_desk_defaults_to_port_5081()
    {
        var listeners = WebListeners.Read(Settings("http://127.0.0.1:5080; http://[::1]:5080;http://unix:/run/si/witness.sock", null));

        Assert.Equal("http://127.0.0.1:5080|http://[::1]:5080|http://unix:/run/si/witness.sock", string.Join('|', listeners.Witness.Select(a => a.Text)));
        Assert.Equal("http://127.0.0.1:5081", Assert.Single(listeners.Desk).Text);
        Assert.Throws<SettingsException>(() => WebListeners.Read(Settings("http://127.0.0.1:5080", " ; ")));
    }

    [Theory]
    [InlineData("https://127.0.0.1:5443")]
    [InlineData("garbage")]
    [InlineData("SAME")]
    public async Task A_bad_desk_address_stops_the_service_with_exit_code_2_and_names_the_setting(string desk)
    {
        var witness = $"http://127.0.0.1:{LoopbackPort.Free()}";

        var result = await SecureIntakeCli.RunAsync(null, "web", $"--Urls={witness}", $"--Desk:Urls={(desk == "SAME" ? witness : desk)}");

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("secureintake: Desk:Urls: ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_witness_address_names_urls()
    {
        var result = await SecureIntakeCli.RunAsync(null, "all", "--Urls=https://127.0.0.1:5443");

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("secureintake: Urls: ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Both_listeners_can_be_unix_sockets_open_to_the_services_group_that_a_restart_after_a_crash_binds_again()
    {
        var database = await (await PostgresCluster.GetSharedAsync()).CreateDatabaseAsync();
        (await SecureIntakeCli.RunAsync(database, "keys", "add", keys.Usable)).EnsureSuccess("keys add");
        using var sockets = new TemporaryDirectory("si-sockets-");
        var witnessSocket = sockets.File("witness.sock");
        var deskSocket = sockets.File("desk.sock");
        // Later settings win: these replace the TCP ports the harness passes.
        string[] settings = [$"--Urls=http://unix:{witnessSocket}", $"--Desk:Urls=http://unix:{deskSocket}"];
        using var witness = OverUnixSocket(witnessSocket);
        using var desk = OverUnixSocket(deskSocket);

        await using (var crashed = SecureIntakeCli.Start(database, "web", settings))
        {
            await WaitForHealthAsync(crashed, desk);
            crashed.Process.Kill();
            await crashed.Process.WaitForExitAsync();
        }

        Assert.True(File.Exists(deskSocket)); // what a crash leaves behind
        await using var service = SecureIntakeCli.Start(database, "web", settings);
        await WaitForHealthAsync(service, witness);
        await WaitForHealthAsync(service, desk);

        Assert.Equal(HttpStatusCode.OK, (await witness.GetAsync(new Uri("/en", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await witness.GetAsync(new Uri("/desk/sign-in", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await desk.GetAsync(new Uri("/desk/sign-in", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await desk.GetAsync(new Uri("/en", UriKind.Relative))).StatusCode);
        var ownerAndGroup = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;
        Assert.Equal(ownerAndGroup, File.GetUnixFileMode(witnessSocket));
        Assert.Equal(ownerAndGroup, File.GetUnixFileMode(deskSocket));

        var (exitCode, output) = await service.StopAsync();
        Assert.True(exitCode == 0, output);
        Assert.Contains($"Witness form on http://unix:{witnessSocket}; editors' desk on http://unix:{deskSocket}", output, StringComparison.Ordinal);
        Assert.False(File.Exists(deskSocket));
    }

    [Fact]
    public void Only_an_empty_entry_nothing_listens_on_is_taken_for_a_stale_socket()
    {
        using var files = new TemporaryDirectory("si-sockets-");
        var path = files.File("desk.sock");
        var address = (UnixSocketAddress)ListenAddress.Parse("Desk:Urls", $"http://unix:{path}");

        File.WriteAllText(path, "not a socket");
        Assert.StartsWith("Desk:Urls: ", Assert.Throws<SettingsException>(() => address.RemoveStale("Desk:Urls")).Message, StringComparison.Ordinal);
        Assert.True(File.Exists(path));
        File.Delete(path);

        using (var live = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            live.Bind(new UnixDomainSocketEndPoint(path));
            live.Listen();
            Assert.Throws<StartupRefusedException>(() => address.RemoveStale("Desk:Urls"));
            Assert.True(File.Exists(path));
        }

        // Bound but not listening: connecting is refused, as for a socket whose process died.
        using var dead = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        dead.Bind(new UnixDomainSocketEndPoint(path));
        address.RemoveStale("Desk:Urls");
        Assert.False(File.Exists(path));
    }

    private static IConfiguration Settings(string? witness, string? desk) =>
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Urls"] = witness, ["Desk:Urls"] = desk }).Build();

    /// <summary>A client whose every connection goes to the socket; the host in its address is what a proxy in front would send.</summary>
    private static HttpClient OverUnixSocket(string path) =>
        new(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        })
        { BaseAddress = new Uri("http://localhost") };

    private static async Task WaitForHealthAsync(RunningService service, HttpClient client)
    {
        for (var attempt = 0; attempt < 300; attempt++)
        {
            if (service.Process.HasExited)
            {
                var (exitCode, output) = await service.StopAsync();
                Assert.Fail($"secureintake exited with {exitCode}: {output}");
            }

            try
            {
                using var response = await client.GetAsync(new Uri("/healthz", UriKind.Relative));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(200);
        }

        Assert.Fail("secureintake did not answer on its socket within 60 s");
    }
}
