using System.Diagnostics;
using System.Text;
using SecureIntake.Testing;

namespace SecureIntake.Server.Tests.Witness;

/// <summary>
/// `secureintake web` for the witness tests, with a temp directory of its own (TMPDIR and ASPNETCORE_TEMP, where
/// .NET and ASP.NET would buffer a form) and its output read as it is written, so a test can look at both right
/// after a refused post.
/// </summary>
internal sealed class WitnessServerProcess : IAsyncDisposable
{
    private readonly StringBuilder _logs = new();
    private readonly TemporaryDirectory _temp = new("si-witness-tmp-");
    private Process _process = null!;

    private WitnessServerProcess()
    {
    }

    public Uri Address { get; private set; } = null!;

    public string TempDirectory => _temp.Path;

    public string Logs
    {
        get
        {
            lock (_logs)
            {
                return _logs.ToString();
            }
        }
    }

    public static async Task<WitnessServerProcess> StartAsync(string database, params string[] settings)
    {
        var server = new WitnessServerProcess();
        // A port handed out free may be taken by another process before the server binds it: then start again on others.
        for (var attempt = 1; ; attempt++)
        {
            server.Launch(database, settings);
            if (await server.WaitUntilReadyAsync() || attempt == 5)
            {
                return server.Address is not null && !server._process.HasExited
                    ? server
                    : throw new InvalidOperationException($"secureintake did not start: {server.Logs}");
            }
        }
    }

    /// <summary>
    /// The logs once everything logged before this call has been written out: the console logger writes its lines
    /// in order, so they are complete when the line of a request sent now shows up.
    /// </summary>
    public async Task<string> FlushedLogsAsync()
    {
        var marker = $"log-barrier-{Guid.NewGuid():N}";
        using var client = new HttpClient { BaseAddress = Address };
        using var response = await client.GetAsync(new Uri($"/{marker}", UriKind.Relative));
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!Logs.Contains(marker, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, "the server did not log a request within 60 s: is Microsoft.AspNetCore.Hosting logging at Information?");
            await Task.Delay(20);
        }

        return Logs;
    }

    public async Task<string> StopAsync()
    {
        if (!_process.HasExited)
        {
            await ExternalTool.RunAsync("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await _process.WaitForExitAsync(timeout.Token);
        return Logs;
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }

            _process.Dispose();
        }

        _temp.Dispose();
    }

    /// <summary>Every file under <paramref name="directory"/> and its subdirectories, hidden and temporary ones included.</summary>
    public static HashSet<string> FilesUnder(string directory) =>
        Directory.EnumerateFiles(directory, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = false }).ToHashSet();

    private void Launch(string database, string[] settings)
    {
        if (_process is not null)
        {
            _process.Dispose();
        }

        var port = LoopbackPort.Free();
        var deskPort = LoopbackPort.Free();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var argument in new[] { Path.Combine(AppContext.BaseDirectory, "secureintake.dll"), "web", $"--Urls=http://127.0.0.1:{port}", $"--Desk:Urls=http://127.0.0.1:{deskPort}",
            // Each request's start is logged, whatever the other settings, so FlushedLogsAsync has a line to wait for.
            "--Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics=Information" }.Concat(settings))
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in SecureIntakeCli.EnvironmentFor(database))
        {
            start.Environment[key] = value;
        }

        start.Environment["TMPDIR"] = _temp.Path;
        start.Environment["ASPNETCORE_TEMP"] = _temp.Path;
        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        _process.StandardInput.Close();
        Address = new Uri($"http://127.0.0.1:{port}");
    }

    /// <summary>True once the health check answers; false when the process ended (a port already taken, say).</summary>
    private async Task<bool> WaitUntilReadyAsync()
    {
        using var client = new HttpClient();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                using var response = await client.GetAsync(new Uri(Address, "/healthz"));
                if (response.IsSuccessStatusCode)
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }

            if (_process.HasExited)
            {
                return false;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"secureintake did not answer within 60 s: {Logs}");
            }

            await Task.Delay(200);
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_logs)
            {
                _logs.AppendLine(line);
            }
        }
    }
}
