using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using SecureIntake.Testing;

namespace SecureIntake.Benchmarks;

/// <summary>
/// One `secureintake web` process on a free loopback port, as the benchmarks run it: production settings except
/// those a run passes in, its output drained (a full pipe would stall the server's logging and so the server),
/// killed with the run.
/// </summary>
internal sealed class WebService : IAsyncDisposable
{
    private const int KeptOutputLines = 40;

    private readonly Process _process;
    private readonly Queue<string> _lastOutput = new();
    private long _outputLines;

    private WebService(Process process, Uri address)
    {
        _process = process;
        Address = address;
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        _process.StandardInput.Close();
    }

    public static string Executable { get; } = Path.Combine(AppContext.BaseDirectory, "secureintake.dll");

    public Uri Address { get; }

    public int ProcessId => _process.Id;

    public long OutputLines => Interlocked.Read(ref _outputLines);

    /// <summary>
    /// The settings every run needs, as environment variables: its database and blob directory, a fresh pepper, and
    /// a free port for the desk's own listener where the server has one (so parallel runs never share 5081).
    /// </summary>
    public static Dictionary<string, string> Settings(string connectionString, string blobDirectory) => new()
    {
        ["SECUREINTAKE_Database__ConnectionString"] = connectionString,
        ["SECUREINTAKE_Storage__BlobDirectory"] = blobDirectory,
        ["SECUREINTAKE_Codenames__Pepper"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
        ["SECUREINTAKE_Desk__Urls"] = $"http://127.0.0.1:{LoopbackPort.Free()}",
    };

    /// <summary>Runs an admin subcommand (`keys add`, `editors add`, ...) with the same settings the service gets.</summary>
    public static async Task<ToolResult> AdminAsync(IReadOnlyList<string> arguments, Dictionary<string, string> environment, byte[]? input = null) =>
        (await ExternalTool.RunAsync("dotnet", [Executable, .. arguments], input, environment)).EnsureSuccess(string.Join(' ', arguments.Take(2)));

    /// <summary>Starts the service and waits until it answers /healthz; a port taken in between is retried on another.</summary>
    public static async Task<WebService> StartAsync(Dictionary<string, string> environment)
    {
        for (var attempt = 1; ; attempt++)
        {
            var port = LoopbackPort.Free();
            var service = new WebService(Process.Start(StartInfo(port, environment))!, new Uri($"http://127.0.0.1:{port}"));
            if (await service.WaitUntilHealthyAsync())
            {
                return service;
            }

            var output = string.Join('\n', service.LastOutput());
            await service.DisposeAsync();
            if (attempt == 3)
            {
                throw new InvalidOperationException($"secureintake web did not start:\n{output}");
            }
        }
    }

    /// <summary>A field of /proc/PID/status in KiB: VmHWM (peak resident memory) or VmRSS (resident now).</summary>
    public long MemoryKiB(string field)
    {
        var line = File.ReadLines($"/proc/{_process.Id}/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }

    public int OpenFileDescriptors() => Directory.GetFileSystemEntries($"/proc/{_process.Id}/fd").Length;

    public IReadOnlyList<string> LastOutput()
    {
        lock (_lastOutput)
        {
            return [.. _lastOutput];
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
    }

    private static ProcessStartInfo StartInfo(int port, Dictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[] { Executable, "web", $"--Urls=http://127.0.0.1:{port}" })
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        return start;
    }

    private async Task<bool> WaitUntilHealthyAsync()
    {
        using var client = new HttpClient();
        for (var attempt = 0; attempt < 300 && !_process.HasExited; attempt++)
        {
            try
            {
                if ((await client.GetAsync(new Uri(Address, "/healthz"))).IsSuccessStatusCode)
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(200);
        }

        return false;
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        Interlocked.Increment(ref _outputLines);
        lock (_lastOutput)
        {
            _lastOutput.Enqueue(line);
            if (_lastOutput.Count > KeptOutputLines)
            {
                _lastOutput.Dequeue();
            }
        }
    }
}
