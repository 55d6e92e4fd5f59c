using System.Diagnostics;

namespace SecureIntake.Desk.Scrub;

/// <summary>
/// Debian's mat2 (the metadata anonymisation toolkit), used when it is installed for the types this tool does
/// not clean itself (OpenDocument, GIF, TIFF, HEIC, SVG, audio, video, EPUB…). It runs on a copy in a private
/// folder beside the file, so it never touches the original, and the report says mat2 did it.
/// </summary>
internal sealed class Mat2
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);
    private readonly string _executable;

    private Mat2(string executable, string version)
    {
        _executable = executable;
        Version = version;
    }

    public string Version { get; }

    /// <summary>mat2 from PATH, or null when it is not installed or does not answer.</summary>
    public static async Task<Mat2?> FindAsync(CancellationToken cancellationToken)
    {
        var executable = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, "mat2"))
            .FirstOrDefault(File.Exists);
        if (executable is null)
        {
            return null;
        }

        var (exit, output, _) = await RunAsync(executable, ["--version"], cancellationToken);
        return exit == 0 && output.StartsWith("mat2 ", StringComparison.Ordinal)
            ? new Mat2(executable, TerminalText.Clean(output["mat2 ".Length..].Trim(), 40))
            : null;
    }

    public async Task<byte[]> CleanAsync(FileInfo file, byte[] input, ScrubLog log, CancellationToken cancellationToken)
    {
        // mat2 picks its parser by the name's extension; only a plain one is passed on.
        var extension = Path.GetExtension(file.Name);
        if (extension.Length is < 2 or > 12 || !extension[1..].All(char.IsAsciiLetterOrDigit))
        {
            throw new NotCleanedException("its name has no plain extension for mat2 to go by");
        }

        var work = Path.Combine(file.DirectoryName!, $".scrub-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work, SubmissionFolder.OwnerOnlyDirectory);
        try
        {
            var copy = Path.Combine(work, "input" + extension);
            await PlaintextFile.WriteVerifiedAsync(copy, destination => destination.WriteAsync(input, cancellationToken).AsTask(), cancellationToken);
            var (_, shown, _) = await RunAsync(_executable, ["--show", copy], cancellationToken);
            var (exit, _, error) = await RunAsync(_executable, [copy], cancellationToken);
            var cleaned = Path.Combine(work, "input.cleaned" + extension);
            if (exit != 0 || !File.Exists(cleaned))
            {
                var reason = error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
                throw new NotCleanedException($"mat2 {Version} could not clean it ({TerminalText.Clean(reason ?? $"exit code {exit}", 200)})");
            }

            // "--show" lists each field as "      name: value"; the report names the fields, not their values.
            var fields = shown.Split('\n')
                .Where(line => line.StartsWith("      ", StringComparison.Ordinal) && line.Contains(": ", StringComparison.Ordinal))
                .Select(line => TerminalText.Clean(line.Trim().Split(": ", 2)[0], 60))
                .Distinct()
                .ToList();
            if (fields.Count > 0)
            {
                log.Remove($"metadata mat2 found: {string.Join(", ", fields.Take(30))}{(fields.Count > 30 ? ", …" : "")}");
            }

            return await File.ReadAllBytesAsync(cleaned, cancellationToken);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task<(int Exit, string Output, string Error)> RunAsync(string executable, IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(executable)
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

        using var process = Process.Start(start) ?? throw new NotCleanedException("mat2 could not be started");
        process.StandardInput.Close();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
            var error = process.StandardError.ReadToEndAsync(timeout.Token);
            await process.WaitForExitAsync(timeout.Token);
            return (process.ExitCode, await output, await error);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            throw new NotCleanedException($"mat2 took longer than {Timeout.TotalMinutes} minutes");
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
    }
}
