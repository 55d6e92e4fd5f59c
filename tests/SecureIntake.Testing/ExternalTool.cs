using System.Diagnostics;
using System.Text;

namespace SecureIntake.Testing;

public sealed record ToolResult(int ExitCode, byte[] Output, string Error)
{
    public string OutputText => Encoding.UTF8.GetString(Output);

    public ToolResult EnsureSuccess(string what) => ExitCode == 0
        ? this
        : throw new InvalidOperationException($"{what} failed with exit code {ExitCode}: {Error}");
}

/// <summary>Runs the real tools the tests lean on (gpg, sq, initdb, pg_ctl). A missing tool fails loudly; it never skips.</summary>
public static class ExternalTool
{
    public static string Require(string name, string package)
    {
        var found = Find(name);
        return found ?? throw new InvalidOperationException(
            $"'{name}' is not installed; tests use the real tool. Install it with `apt-get install {package}` (or run `bash .ci/run`).");
    }

    public static string? Find(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var directory in path.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    public static async Task<ToolResult> RunAsync(string fileName, IEnumerable<string> arguments, byte[]? input = null,
        IDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {fileName}");
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(5));
        var output = new MemoryStream();
        var readOutput = process.StandardOutput.BaseStream.CopyToAsync(output, cancel.Token);
        var readError = process.StandardError.ReadToEndAsync(cancel.Token);
        if (input is not null)
        {
            await process.StandardInput.BaseStream.WriteAsync(input, cancel.Token);
        }

        process.StandardInput.Close();
        try
        {
            await process.WaitForExitAsync(cancel.Token);
            await readOutput;
            return new ToolResult(process.ExitCode, output.ToArray(), await readError);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', start.ArgumentList)} did not finish in time");
        }
    }
}
