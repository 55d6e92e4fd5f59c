using System.Net.Sockets;
using System.Runtime.InteropServices;
using SecureIntake.Testing;

namespace SecureIntake.Server.Tests.Deploy;

/// <summary>
/// deploy/publish.sh's release, unpacked and run where no .NET is installed: the machine's .NET folder is hidden under
/// an empty file system (a mount namespace of the release's own), so anything the release needed from it would fail.
/// </summary>
public sealed class PublishTests(ServerTestKeys keys) : IClassFixture<ServerTestKeys>, IDisposable
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private readonly TemporaryDirectory _root = new("si-release-");

    [Fact]
    public async Task The_release_runs_without_dotnet_checks_a_key_and_serves_the_witness_form_on_a_unix_socket()
    {
        var publish = await ExternalTool.RunAsync("bash", [DeployFolder.File("publish.sh"), "--out", _root.Path, "--version", "test-1", "--desk-rids", "linux-x64"],
            timeout: TimeSpan.FromMinutes(20));
        Assert.True(publish.ExitCode == 0, publish.OutputText + publish.Error);
        var release = Path.Combine(_root.Path, "secureintake-test-1");
        var sums = await ExternalTool.RunAsync("bash", ["-c", "cd \"$1\" && sha256sum --check --strict SHA256SUMS", "-", release]);
        Assert.True(sums.ExitCode == 0, sums.OutputText + sums.Error);
        Assert.Equal(2, (await File.ReadAllLinesAsync(Path.Combine(release, "SHA256SUMS"))).Length);

        var installed = Directory.CreateDirectory(_root.File("opt")).FullName;
        foreach (var tarball in Directory.GetFiles(release, "*.tar.gz"))
        {
            (await ExternalTool.RunAsync("tar", ["-xzf", tarball, "-C", installed])).EnsureSuccess("unpacking " + tarball);
        }

        var server = Path.Combine(installed, "secureintake-test-1-linux-x64", "secureintake");
        // The admin installs from the tarball alone: the guide and its files come with the program.
        foreach (var file in new[] { "README.md", "appsettings.example.json", "systemd/secureintake-web.service", "systemd/secureintake-backup.timer", "tor/torrc", "clearnet/nginx.conf" })
        {
            Assert.True(File.Exists(Path.Combine(installed, "secureintake-test-1-linux-x64", "deploy", file)), $"deploy/{file} is not in the release");
        }

        Assert.True(File.GetUnixFileMode(Path.Combine(installed, "secureintake-test-1-linux-x64", "deploy", "postgres", "setup.sh")).HasFlag(UnixFileMode.UserExecute));
        var desk = Path.Combine(installed, "secureintake-desk-test-1-linux-x64", "secureintake-desk");
        Assert.True(File.Exists(Path.Combine(installed, "secureintake-desk-test-1-linux-x64", "desk-client-key.sh")), "the editors' client key script is not in the desk tool's release");

        var check = await WithoutDotnetAsync([server, "keys", "check", keys.Usable]);
        Assert.True(check.ExitCode == 0, check.OutputText + check.Error);
        Assert.Contains(keys.UsableFingerprint, check.OutputText, StringComparison.Ordinal);
        var deskHelp = await WithoutDotnetAsync([desk, "--help"]);
        Assert.True(deskHelp.ExitCode == 0, deskHelp.OutputText + deskHelp.Error);
        Assert.Contains("pull", deskHelp.OutputText, StringComparison.Ordinal);

        var settings = await SettingsAsync();
        foreach (var command in new[] { new[] { server, "migrate" }, [server, "keys", "add", keys.Usable] })
        {
            var result = await WithoutDotnetAsync(command, settings);
            Assert.True(result.ExitCode == 0, result.OutputText + result.Error);
        }

        var sockets = Directory.CreateDirectory(_root.File("run")).FullName;
        var witness = Path.Combine(sockets, "witness.sock");
        using var web = BackgroundProcess.Start("unshare", [.. HideDotnet(), server, "web", $"--Urls=http://unix:{witness}",
            $"--Desk:Urls=http://unix:{Path.Combine(sockets, "desk.sock")}"], settings);
        try
        {
            using var client = new HttpClient(new SocketsHttpHandler { ConnectCallback = (_, token) => ConnectAsync(witness, token) })
            {
                BaseAddress = new Uri("http://localhost"),
            };
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (!File.Exists(witness) || !await AnswersAsync(client))
            {
                Assert.False(web.HasExited, "the released web role stopped:\n" + web.Output);
                Assert.True(DateTime.UtcNow < deadline, "the released web role did not answer within 2 minutes:\n" + web.Output);
                await Task.Delay(200);
            }

            var form = await client.GetAsync(new Uri("/en/submit", UriKind.Relative));
            Assert.True(form.IsSuccessStatusCode, $"{(int)form.StatusCode} for the English witness form");
            Assert.Contains("<form", await form.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        finally
        {
            await web.StopAsync(TimeSpan.Zero);
        }
    }

    public void Dispose() => _root.Dispose();

    // The folder the running tests' own .NET lives in (…/dotnet/shared/Microsoft.NETCore.App/VERSION/).
    private static string DotnetRoot() => Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));

    private static string[] HideDotnet() =>
        ["--mount", "sh", "-c", "mount -t tmpfs none \"$1\" && shift && exec \"$@\"", "-", DotnetRoot()];

    private static Task<ToolResult> WithoutDotnetAsync(string[] command, Dictionary<string, string>? settings = null)
    {
        var environment = new Dictionary<string, string>(settings ?? [], StringComparer.Ordinal) { ["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin", ["DOTNET_ROOT"] = "/nonexistent" };
        return ExternalTool.RunAsync("unshare", [.. HideDotnet(), .. command], environment: environment, timeout: TimeSpan.FromMinutes(2));
    }

    private async Task<Dictionary<string, string>> SettingsAsync()
    {
        var database = await (await PostgresCluster.GetSharedAsync()).CreateDatabaseAsync();
        var blobs = Directory.CreateDirectory(_root.File("blobs"), OwnerOnly).FullName;
        var pepper = _root.File("pepper");
        await File.WriteAllTextAsync(pepper, Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
        return new(StringComparer.Ordinal)
        {
            ["SECUREINTAKE_Database__ConnectionString"] = database,
            ["SECUREINTAKE_Storage__BlobDirectory"] = blobs,
            ["SECUREINTAKE_Codenames__PepperFile"] = pepper,
            ["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin",
            ["DOTNET_ROOT"] = "/nonexistent",
        };
    }

    private static async Task<bool> AnswersAsync(HttpClient client)
    {
        try
        {
            return await client.GetStringAsync(new Uri("/healthz", UriKind.Relative)) == "ok\n";
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private static async ValueTask<Stream> ConnectAsync(string socketPath, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
