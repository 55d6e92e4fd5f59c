using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using SecureIntake.Testing;

namespace SecureIntake.Server.Tests;

/// <summary>Runs the real `secureintake` program (built next to these tests) as an admin would.</summary>
internal static class SecureIntakeCli
{
    private static string Program => Path.Combine(AppContext.BaseDirectory, "secureintake.dll");

    public static Task<ToolResult> RunAsync(string? connectionString, params string[] arguments) =>
        ExternalTool.RunAsync("dotnet", [Program, .. arguments], environment: Environment(connectionString), timeout: TimeSpan.FromMinutes(2));

    /// <summary>Runs a command that reads from standard input (a password, say) with <paramref name="input"/> piped in.</summary>
    public static Task<ToolResult> RunWithInputAsync(string? connectionString, string input, params string[] arguments) =>
        ExternalTool.RunAsync("dotnet", [Program, .. arguments], System.Text.Encoding.UTF8.GetBytes(input), environment: Environment(connectionString),
            timeout: TimeSpan.FromMinutes(2));

    /// <summary>
    /// Starts a long-running role with its witness and desk listeners on two free loopback ports; dispose stops it
    /// as systemd would (SIGTERM).
    /// </summary>
    public static RunningService Start(string connectionString, string role, params string[] settings)
    {
        var port = LoopbackPort.Free();
        var deskPort = LoopbackPort.Free();
        while (deskPort == port)
        {
            deskPort = LoopbackPort.Free();
        }

        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { Program, role, $"--Urls=http://127.0.0.1:{port}", $"--Desk:Urls=http://127.0.0.1:{deskPort}" }.Concat(settings))
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in Environment(connectionString))
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start)!;
        return new RunningService(process, new Uri($"http://127.0.0.1:{port}"), new Uri($"http://127.0.0.1:{deskPort}"));
    }

    /// <summary>
    /// Starts a role and waits until it answers. The two ports were free a moment ago, but another process (another
    /// test run on this machine) may take one before the server binds it: then it starts over on new ports.
    /// </summary>
    public static Task<RunningService> StartReadyAsync(string connectionString, string role, params string[] settings) =>
        StartReadyAsync(() => Start(connectionString, role, settings));

    /// <summary>Starts what <paramref name="start"/> starts until it answers on ports of its own (three tries).</summary>
    public static async Task<RunningService> StartReadyAsync(Func<RunningService> start)
    {
        ArgumentNullException.ThrowIfNull(start);
        for (var attempt = 1; ; attempt++)
        {
            var service = start();
            try
            {
                await service.WaitUntilReadyAsync();
                return service;
            }
            catch (PortTakenException) when (attempt < 3)
            {
                await service.DisposeAsync();
            }
            catch
            {
                await service.DisposeAsync();
                throw;
            }
        }
    }

    // Blobs of every test share one directory that lives as long as the test run; tests here do not count them.
    private static readonly Lazy<string> BlobDirectory = new(() => Directory.CreateTempSubdirectory("si-server-blobs-").FullName);

    private static readonly string Pepper = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    public static Dictionary<string, string> EnvironmentFor(string? connectionString) => Environment(connectionString);

    private static Dictionary<string, string> Environment(string? connectionString) => new()
    {
        ["SECUREINTAKE_Database__ConnectionString"] = connectionString ?? "",
        ["SECUREINTAKE_Storage__BlobDirectory"] = BlobDirectory.Value,
        ["SECUREINTAKE_Codenames__Pepper"] = Pepper,
        // The cheapest Argon2id the settings allow: these tests are about behaviour; the cost is measured elsewhere.
        ["SECUREINTAKE_Codenames__MemoryKiB"] = "8192",
        ["SECUREINTAKE_Codenames__Iterations"] = "1",
        ["SECUREINTAKE_Editors__PasswordMemoryKiB"] = "8192",
        ["SECUREINTAKE_Editors__PasswordIterations"] = "1",
        ["DOTNET_NOLOGO"] = "1",
    };

}

internal sealed class RunningService(Process process, Uri address, Uri deskAddress) : IAsyncDisposable
{
    private readonly Task<string> _output = process.StandardOutput.ReadToEndAsync();
    private readonly Task<string> _error = process.StandardError.ReadToEndAsync();

    /// <summary>The witness listener (`Urls`).</summary>
    public Uri Address { get; } = address;

    /// <summary>The editors' desk listener (`Desk:Urls`).</summary>
    public Uri DeskAddress { get; } = deskAddress;

    public Process Process { get; } = process;

    /// <summary>Waits until the health check answers on both listeners, or fails with what the process printed.</summary>
    public async Task WaitUntilReadyAsync()
    {
        using var client = new HttpClient();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        foreach (var listener in new[] { Address, DeskAddress })
        {
            while (!await IsHealthyAsync(client, listener))
            {
                await ThrowIfExitedAsync();

                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"secureintake did not answer on {listener} within 60 s");
                }

                await Task.Delay(200);
            }
        }

        // Another server that took our port answers /healthz too; ours then exits on its failed bind.
        await ThrowIfExitedAsync();
    }

    private async Task ThrowIfExitedAsync()
    {
        if (!Process.HasExited)
        {
            return;
        }

        var printed = await _error + await _output;
        if (printed.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
        {
            throw new PortTakenException($"secureintake could not bind its port: {printed}");
        }

        throw new InvalidOperationException($"secureintake exited with {Process.ExitCode}: {printed}");
    }

    private static async Task<bool> IsHealthyAsync(HttpClient client, Uri listener)
    {
        try
        {
            using var response = await client.GetAsync(new Uri(listener, "/healthz"));
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false; // not listening yet
        }
    }

    /// <summary>Sends SIGTERM and returns the exit code and everything printed.</summary>
    public async Task<(int ExitCode, string Output)> StopAsync()
    {
        if (!Process.HasExited)
        {
            await ExternalTool.RunAsync("kill", ["-TERM", Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await Process.WaitForExitAsync(timeout.Token);
        return (Process.ExitCode, await _output + await _error);
    }

    public async ValueTask DisposeAsync()
    {
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
            await Process.WaitForExitAsync();
        }

        Process.Dispose();
    }
}

/// <summary>The server lost the race for a port it was handed as free; starting over on new ports is safe.</summary>
internal sealed class PortTakenException(string message) : InvalidOperationException(message);
