using SecureIntake.Testing;

namespace SecureIntake.Server.Tests.Deploy;

/// <summary>
/// deploy/clearnet/nginx.conf read by the real nginx, as deploy/README.md installs it: a site inside Debian's own
/// nginx.conf, with what the admin edits filled in (a host name, a certificate made here with openssl) and every
/// path nginx would write (its pid, logs and temp folders) moved under the test's folder. How the service behaves
/// behind the proxy is tested in Witness/ClearnetProxyTests.
/// </summary>
public sealed class ClearnetNginxTests : IDisposable
{
    private const string DebianMainConfig = "/etc/nginx/nginx.conf";
    private const string SitesInclude = "include /etc/nginx/sites-enabled/*;";

    // Where nginx spools bodies; Debian's build puts them under /var/lib/nginx.
    private static readonly string[] TemporaryFolders = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"];

    private readonly TemporaryDirectory _root = new("si-nginx-");

    [Fact]
    public async Task Nginx_accepts_the_example_inside_debians_configuration_without_a_warning()
    {
        var nginx = Nginx();
        var certificate = _root.File("fullchain.pem");
        var key = _root.File("privkey.pem");
        (await ExternalTool.RunAsync(ExternalTool.Require("openssl", "openssl"),
            ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=tips.test.invalid",
                "-keyout", key, "-out", certificate])).EnsureSuccess("openssl req");

        var logs = Directory.CreateDirectory(_root.File("log")).FullName;
        var site = _root.File("secureintake");
        await File.WriteAllTextAsync(site, Fill(await File.ReadAllTextAsync(DeployFolder.File("clearnet", "nginx.conf")),
            ("/etc/letsencrypt/live/tips.example.org/fullchain.pem", certificate),
            ("/etc/letsencrypt/live/tips.example.org/privkey.pem", key),
            ("tips.example.org", "tips.test.invalid"),
            ("/var/log/nginx/", logs + "/")));

        // Debian's nginx.conf as the package installs it, with the guide's site in the place of sites-enabled/.
        var temporary = TemporaryFolders.Select(kind => $"{kind}_temp_path {Directory.CreateDirectory(_root.File("temp-" + kind)).FullName};");
        var main = _root.File("nginx.conf");
        await File.WriteAllTextAsync(main, Fill(await File.ReadAllTextAsync(DebianMainConfig),
            ("/var/log/nginx/", logs + "/"),
            ("pid /run/nginx.pid;", $"pid {_root.File("nginx.pid")};"),
            (SitesInclude, string.Join(' ', temporary) + $" include {site};")));

        // Debian's own prefix (nginx's default, no -p): modules-enabled/ loads modules by paths relative to it. Nothing is written
        // there; every path nginx writes is the test's.
        var result = await ExternalTool.RunAsync(nginx, ["-t", "-c", main, "-e", Path.Combine(logs, "error.log")]);

        var said = result.OutputText + result.Error;
        Assert.True(result.ExitCode == 0, $"nginx -t (exit {result.ExitCode}):\n{said}");
        Assert.Contains("test is successful", said, StringComparison.Ordinal);
        // A deprecated or ignored directive is a warning, and the exit code stays 0; only `user`, which nginx ignores when
        // the test runs unprivileged, may warn.
        Assert.DoesNotContain(said.Split('\n'), line => line.Contains("[warn]", StringComparison.Ordinal) && !line.Contains("\"user\" directive", StringComparison.Ordinal));
    }

    [Fact]
    public void Nginx_proxies_only_the_witness_listener_and_forwards_no_client_address()
    {
        var config = File.ReadAllText(DeployFolder.File("clearnet", "nginx.conf"));

        Assert.Contains("location = /desk { return 404; }", config, StringComparison.Ordinal);
        Assert.Contains("location ^~ /desk/ { return 404; }", config, StringComparison.Ordinal);
        Assert.Contains("proxy_set_header X-Forwarded-For \"\";", config, StringComparison.Ordinal);
        Assert.Contains("proxy_request_buffering off;", config, StringComparison.Ordinal);
        Assert.Contains("gzip off;", config, StringComparison.Ordinal);
        Assert.Single(config.Split('\n'), line => line.TrimStart().StartsWith("proxy_pass ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_web_units_clearnet_drop_in_adds_the_listener_nginx_proxies_to_and_keeps_the_onion_socket()
    {
        var systemdAnalyze = ExternalTool.Require("systemd-analyze", "systemd");
        // As installed: the unit, and the drop-in in its .d folder beside it (where verify looks for drop-ins too).
        var program = _root.File("secureintake");
        await File.WriteAllTextAsync(program, "#!/bin/sh\nexit 0\n");
        File.SetUnixFileMode(program, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var unit = _root.File("secureintake-web.service");
        await File.WriteAllTextAsync(unit, Fill(await File.ReadAllTextAsync(DeployFolder.File("systemd", "secureintake-web.service")),
            ("/opt/secureintake/current/secureintake ", program + " ")));
        var dropIns = Directory.CreateDirectory(_root.File("secureintake-web.service.d")).FullName;
        File.Copy(DeployFolder.File("clearnet", "secureintake-web-clearnet.conf"), Path.Combine(dropIns, "clearnet.conf"));

        var result = await ExternalTool.RunAsync(systemdAnalyze, ["verify", unit]);

        Assert.True(result.ExitCode == 0 && result.OutputText.Length == 0 && result.Error.Length == 0,
            $"systemd-analyze verify (exit {result.ExitCode}):\n{result.OutputText}{result.Error}");
        var urls = File.ReadLines(Path.Combine(dropIns, "clearnet.conf")).Single(line => line.StartsWith("Environment=", StringComparison.Ordinal))
            .Split('=', 3)[2].TrimEnd('"').Split(';');
        var proxied = File.ReadLines(DeployFolder.File("clearnet", "nginx.conf")).Select(line => line.Trim())
            .Single(line => line.StartsWith("proxy_pass ", StringComparison.Ordinal))["proxy_pass ".Length..].TrimEnd(';');
        Assert.Equal(["http://unix:/run/secureintake/witness.sock", proxied], urls);
    }

    public void Dispose() => _root.Dispose();

    // Debian installs nginx in /usr/sbin, which an ordinary user's PATH may lack.
    private static string Nginx() => ExternalTool.Find("nginx") ?? (File.Exists("/usr/sbin/nginx") ? "/usr/sbin/nginx" : ExternalTool.Require("nginx", "nginx"));

    /// <summary>Each placeholder replaced, in order; one that is no longer in the text fails the test rather than going unfilled.</summary>
    private static string Fill(string text, params (string Placeholder, string Value)[] replacements)
    {
        foreach (var (placeholder, value) in replacements)
        {
            Assert.True(text.Contains(placeholder, StringComparison.Ordinal), $"'{placeholder}' is not in the file any more");
            text = text.Replace(placeholder, value, StringComparison.Ordinal);
        }

        return text;
    }
}
