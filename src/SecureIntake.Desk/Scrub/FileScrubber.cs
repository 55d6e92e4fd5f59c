using System.Text;

namespace SecureIntake.Desk.Scrub;

/// <summary>What scrubbing one file did: a clean copy and a report, or a report that says it was NOT cleaned.</summary>
internal sealed record ScrubResult(string Source, bool Cleaned, string? CleanCopy, string? Report, IReadOnlyList<string> Removed, string? Reason);

/// <summary>
/// Scrubs one file on the editor's machine: picks the cleaner by the file's content (never by its name, which
/// the witness chose), writes the clean copy and a report beside it, and never changes the file itself. A
/// file no cleaner understands gets a report saying so and no clean copy, so nothing unclean looks clean.
/// </summary>
internal static class FileScrubber
{
    /// <summary>Files are cleaned in memory; a bigger one is a video or an archive, which no cleaner here takes.</summary>
    public const long MaxBytes = 512L * 1024 * 1024;

    public const string Limits = """
        Scrubbing removes what a file says about itself, not what it shows: faces, places, reflections, screens, the
        sensor's noise and printer dots are in the pixels; names, dates, style and the facts known to few are in the
        words, and hidden or white text, speaker notes and form fields are words too. Look at the clean copy before
        passing it on.
        """;

    private static readonly string[] MethodOrder = ["JPEG", "PNG", "PDF", "Office"];

    public static async Task<ScrubResult> ScrubAsync(string path, Mat2? mat2, CancellationToken cancellationToken)
    {
        var full = Path.GetFullPath(path);
        var file = new FileInfo(full);
        if (!file.Exists)
        {
            return new ScrubResult(full, false, null, null, [], "it does not exist or is not a file");
        }

        var directory = file.DirectoryName!;
        var reportPath = FreeName(directory, file.Name + ".scrub", ".txt");
        if (file.Length > MaxBytes)
        {
            return await NotCleanedAsync(file, reportPath, "unknown", $"it is larger than {MaxBytes / (1024 * 1024)} MiB, more than this tool reads", cancellationToken);
        }

        var input = await File.ReadAllBytesAsync(full, cancellationToken);
        var (kind, method, clean) = Pick(input);
        var log = new ScrubLog();
        byte[] output;
        if (clean is null)
        {
            if (mat2 is null)
            {
                return await NotCleanedAsync(file, reportPath, kind,
                    $"it is not a type this tool cleans (it cleans {string.Join(", ", MethodOrder)}), and mat2 is not installed", cancellationToken);
            }

            try
            {
                output = await mat2.CleanAsync(file, input, log, cancellationToken);
                method = $"mat2 {mat2.Version} (this tool does not know the type itself)";
            }
            catch (NotCleanedException e)
            {
                return await NotCleanedAsync(file, reportPath, kind, e.Message, cancellationToken);
            }
        }
        else
        {
            try
            {
                output = clean(input, log);
            }
            catch (NotCleanedException e)
            {
                return await NotCleanedAsync(file, reportPath, kind, e.Message, cancellationToken);
            }
#pragma warning disable CA1031 // A parser that fails on a hostile file for any reason means "not cleaned", which is what is reported.
            catch (Exception e) when (e is not OperationCanceledException)
#pragma warning restore CA1031
            {
                return await NotCleanedAsync(file, reportPath, kind, $"{method} failed on it ({TerminalText.Clean(e.Message.ReplaceLineEndings(" "), 200)})", cancellationToken);
            }

            // The clean copy must pass the same cleaner again with nothing left to remove: what it could not
            // remove the first time, it would find the second.
            var recheck = new ScrubLog();
            try
            {
                clean(output, recheck);
            }
            catch (NotCleanedException e)
            {
                return await NotCleanedAsync(file, reportPath, kind, $"the cleaned result does not read back ({e.Message})", cancellationToken);
            }

            if (recheck.RemovedAnything)
            {
                return await NotCleanedAsync(file, reportPath, kind, $"the cleaned result still holds: {string.Join("; ", recheck.Removed)}", cancellationToken);
            }
        }

        var extension = Path.GetExtension(file.Name);
        var cleanPath = FreeName(directory, Path.GetFileNameWithoutExtension(file.Name) + ".clean", extension);
        await PlaintextFile.WriteVerifiedAsync(cleanPath, destination => destination.WriteAsync(output, cancellationToken).AsTask(), cancellationToken);
        var removed = log.Removed.ToList();
        List<string> report =
        [
            $"Scrub report for: {file.Name}",
            $"Type (by its content): {kind}",
            $"Cleaned by: {method}",
            $"Clean copy: {Path.GetFileName(cleanPath)} (the original is unchanged)",
            removed.Count == 0 ? "Removed: nothing; none of the metadata this tool knows was found." : "Removed:",
            .. removed.Select(what => $"  - {what}"),
            .. log.Notes.Select(note => $"Note: {note}"),
            "",
            Limits.ReplaceLineEndings(" "),
        ];
        await WriteReportAsync(reportPath, report, cancellationToken);
        return new ScrubResult(full, true, cleanPath, reportPath, removed, null);
    }

    private static (string Kind, string Method, Func<byte[], ScrubLog, byte[]>? Clean) Pick(byte[] input)
    {
        if (JpegScrubber.Recognises(input))
        {
            return ("JPEG image", "secureintake-desk's own JPEG code (metadata segments dropped, the image data copied unchanged)", (bytes, log) => JpegScrubber.Clean(bytes, log));
        }

        if (PngScrubber.Recognises(input))
        {
            return ("PNG image", "secureintake-desk's own PNG code (metadata chunks dropped, the image data copied unchanged)", (bytes, log) => PngScrubber.Clean(bytes, log));
        }

        if (PdfScrubber.Recognises(input))
        {
            return ("PDF document", "PDFsharp (the document rewritten without its metadata)", PdfScrubber.Clean);
        }

        if (OfficeScrubber.Recognises(input))
        {
            return (OfficePackageKind.Describe(OfficePackageKind.Of(input)), "the Open XML SDK", OfficeScrubber.Clean);
        }

        var start = input.AsSpan(0, Math.Min(input.Length, 100));
        var kind = !start.StartsWith("PK\x03\x04"u8) ? "not recognised"
            : start.IndexOf("application/vnd.oasis.opendocument"u8) >= 0 ? "OpenDocument file"
            : "ZIP archive (not an Office Open XML file)";
        return (kind, "", null);
    }

    private static async Task<ScrubResult> NotCleanedAsync(FileInfo file, string reportPath, string kind, string reason, CancellationToken cancellationToken)
    {
        List<string> report =
        [
            $"NOT CLEANED: {file.Name}",
            $"Type (by its content): {kind}",
            $"Why: {reason}.",
            "No clean copy was written. Whatever metadata it carries is still in it: do not pass it on as clean.",
        ];
        await WriteReportAsync(reportPath, report, cancellationToken);
        return new ScrubResult(file.FullName, false, null, reportPath, [], reason);
    }

    private static Task WriteReportAsync(string path, IEnumerable<string> lines, CancellationToken cancellationToken)
    {
        var text = Encoding.UTF8.GetBytes(string.Concat(lines.Select(line => line + "\n")));
        return PlaintextFile.WriteVerifiedAsync(path, destination => destination.WriteAsync(text, cancellationToken).AsTask(), cancellationToken);
    }

    /// <summary>"photo.clean.jpg", or "photo.clean (2).jpg" when that is taken: an existing file is never replaced.</summary>
    private static string FreeName(string directory, string stem, string extension)
    {
        var path = Path.Combine(directory, stem + extension);
        for (var copy = 2; File.Exists(path) || Directory.Exists(path); copy++)
        {
            path = Path.Combine(directory, $"{stem} ({copy}){extension}");
        }

        return path;
    }
}
