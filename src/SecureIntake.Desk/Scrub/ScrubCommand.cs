using System.CommandLine;

namespace SecureIntake.Desk.Scrub;

/// <summary>
/// `secureintake-desk scrub FILE...`: writes beside each file a copy without the metadata that can expose a
/// witness, and a report of what was removed. Runs entirely on the editor's machine, offline.
/// </summary>
internal static class ScrubCommand
{
    public const string Coverage = """
        What is cleaned, by what (chosen by each file's content, not its name):
          JPEG (this tool): EXIF (GPS position, camera make, model and serial numbers, maker notes, dates, thumbnail),
            XMP, IPTC/Photoshop, ICC profile, comments, other APPn blocks and data after the image; the compressed
            image is copied unchanged, never re-encoded
          PNG (this tool): tEXt, iTXt and zTXt text, eXIf, tIME, iCCP, sPLT and unknown ancillary chunks, data
            after the image; the image data is copied unchanged
          PDF (PDFsharp): document information (author, title, programs, dates), XMP metadata of the document and
            its pages, pictures and fonts, application private data, comments and markup with their authors,
            attached files, earlier saved versions (incremental updates); the file id is renewed
          Word, Excel, PowerPoint .docx/.xlsx/.pptx and their macro and template kin (Open XML SDK, the kind told by
            the package's main part): core, application and custom properties (author, last editor, title, company,
            manager…), thumbnail, custom XML, sensitivity labels, and the metadata of JPEG and PNG pictures inside;
            Word: comments and their authors, tracked changes (accepted: deleted text removed, inserted text kept),
            revision ids (rsid), the template path, document variables; Excel: notes with their boxes, threaded
            comments and the people list, the folder it was saved in, the document id kept by every copy
            (revisionPtr), shared-workbook history; PowerPoint: classic and modern comments and both author lists,
            the ids of the Office installations that edited it (revision list). Left as they are: hidden sheets, slides and text, speaker
            notes, links to other files with their paths, printer settings, embedded documents (the report says so)
          anything else: by mat2 when it is installed (OpenDocument, GIF, TIFF, HEIC, SVG, audio, video, EPUB…),
            and the report says so; otherwise reported as NOT CLEANED, and no clean copy is written
        """;

    public static Command Build()
    {
        var files = new Argument<FileInfo[]>("FILE") { Description = "Files to clean; each is only read, never changed", Arity = ArgumentArity.OneOrMore };
        var command = new Command("scrub", $"""
            Write beside each file a cleaned copy without the metadata that can give a witness away (NAME.clean.EXT) and
            a report of what was removed (NAME.EXT.scrub.txt). Runs on this machine only, with no network. The exit code
            is 1 when any file was not cleaned.
            {Coverage}
            {FileScrubber.Limits}
            """)
        {
            files,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(parse.GetValue(files)!.Select(file => file.FullName), cancellationToken));
        return command;
    }

    /// <summary>Scrubs each file and prints one line per file; 1 when any was not cleaned, so that scripts notice.</summary>
    public static async Task<int> RunAsync(IEnumerable<string> paths, CancellationToken cancellationToken)
    {
        var mat2 = await Mat2.FindAsync(cancellationToken);
        var notCleaned = 0;
        foreach (var path in paths)
        {
            ScrubResult result;
            try
            {
                result = await FileScrubber.ScrubAsync(path, mat2, cancellationToken);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                result = new ScrubResult(path, false, null, null, [], $"it could not be read or its clean copy written ({e.Message})");
            }

            var name = TerminalText.Clean(Path.GetFileName(path));
            if (result.Cleaned)
            {
                Console.WriteLine($"  cleaned {name} -> {TerminalText.Clean(Path.GetFileName(result.CleanCopy))} (report: {TerminalText.Clean(Path.GetFileName(result.Report))})");
                foreach (var what in result.Removed.DefaultIfEmpty("nothing to remove was found"))
                {
                    Console.WriteLine($"      removed: {TerminalText.Clean(what)}");
                }
            }
            else
            {
                notCleaned++;
                var report = result.Report is null ? "" : $" (report: {TerminalText.Clean(Path.GetFileName(result.Report))})";
                Failure.Report($"NOT CLEANED {name}: {TerminalText.Clean(result.Reason)}; no clean copy was written{report}");
            }
        }

        return notCleaned == 0 ? 0 : Failure.Report($"{notCleaned} file(s) were NOT cleaned; do not pass them on as clean");
    }
}
