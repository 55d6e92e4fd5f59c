using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using PdfSharp.Pdf;
using PdfSharp.Pdf.Advanced;
using PdfSharp.Pdf.IO;

namespace SecureIntake.Desk.Scrub;

/// <summary>
/// Cleans a PDF with PDFsharp: the document information (author, title, programs, dates), every XMP metadata
/// stream, applications' private data, comments and markup with their authors, and attached files. PDFsharp
/// writes the whole file anew, so earlier saved versions kept after the end of a PDF (incremental updates) and
/// objects nothing refers to any more are gone too.
/// </summary>
internal static class PdfScrubber
{
    // Markup annotations carry an author (/T), dates and text; links and form fields are part of the page.
    private static readonly HashSet<string> Markup =
    [
        "/Text", "/FreeText", "/Line", "/Square", "/Circle", "/Polygon", "/PolyLine", "/Highlight", "/Underline", "/Squiggly",
        "/StrikeOut", "/Stamp", "/Caret", "/Ink", "/Popup", "/FileAttachment", "/Sound", "/Redact",
    ];

    private static readonly Dictionary<string, string> InfoNames = new()
    {
        ["/Author"] = "author",
        ["/Title"] = "title",
        ["/Subject"] = "subject",
        ["/Keywords"] = "keywords",
        ["/Creator"] = "creating program",
        ["/Producer"] = "producing program",
        ["/CreationDate"] = "dates",
        ["/ModDate"] = "dates",
        ["/Trapped"] = "trapping flag",
    };

    public static bool Recognises(ReadOnlySpan<byte> start) => start[..Math.Min(start.Length, 1024)].IndexOf("%PDF-"u8) >= 0;

    public static byte[] Clean(byte[] input, ScrubLog log)
    {
        PdfDocument document;
        try
        {
            document = PdfReader.Open(new MemoryStream(input, writable: false), PdfDocumentOpenMode.Modify);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new NotCleanedException($"PDFsharp cannot open it for changing ({OneLine(e.Message)}); is it password-protected or damaged?");
        }

        using (document)
        {
            RemoveInformation(document, log);
            RemoveFromCatalog(document.Internals.Catalog, log);
            foreach (var page in document.Pages)
            {
                RemoveMarkup(page, log);
            }

            foreach (var item in document.Internals.GetAllObjects())
            {
                if (item is PdfDictionary dictionary)
                {
                    if (dictionary.Elements.Remove("/Metadata"))
                    {
                        log.Remove("XMP metadata of pages, pictures or fonts");
                    }

                    if (dictionary.Elements.Remove("/PieceInfo"))
                    {
                        log.Remove("application private data (PieceInfo)");
                    }
                }
            }

            var updates = Count(input, "%%EOF"u8) - 1;
            if (updates > 0)
            {
                log.Remove($"earlier saved versions kept inside the file (incremental updates or a fast-web-view index: {updates})");
            }

            // A new file identifier: the old one ties copies of the same file together.
            document.Internals.FirstDocumentID = Guid.NewGuid().ToString("N");
            document.Internals.SecondDocumentID = document.Internals.FirstDocumentID;
            using var output = new MemoryStream();
            document.Save(output, closeStream: false);
            return BlankWhatPdfSharpAdds(output.ToArray());
        }
    }

    /// <summary>
    /// PDFsharp always writes its own name, the time and an XMP stream saying so into what it saves. They are
    /// overwritten with spaces in place, so every offset in the cross-reference table stays right: the
    /// information dictionary is left empty, and the XMP stream becomes a null object nothing refers to.
    /// </summary>
    private static byte[] BlankWhatPdfSharpAdds(byte[] pdf)
    {
        // Latin-1 maps each byte to one char and back, so positions in the text are positions in the file.
        var text = Encoding.Latin1.GetString(pdf).ToCharArray();
        var whole = new string(text);
        var startxref = whole.LastIndexOf("startxref", StringComparison.Ordinal);
        var xref = startxref < 0 ? -1 : int.Parse(whole.AsSpan(startxref + 9).Trim()[..Digits(whole.AsSpan(startxref + 9).Trim())], CultureInfo.InvariantCulture);
        var header = xref < 0 ? null : Regex.Match(whole[xref..], @"\Axref\n0 (\d+)\n");
        var trailer = whole.IndexOf("trailer", Math.Max(xref, 0), StringComparison.Ordinal);
        var info = trailer < 0 ? null : Regex.Match(whole[trailer..], @"/Info (\d+) 0 R");
        var root = trailer < 0 ? null : Regex.Match(whole[trailer..], @"/Root (\d+) 0 R");
        if (header is not { Success: true } || info is not { Success: true } || root is not { Success: true })
        {
            throw new NotCleanedException("PDFsharp's output was not laid out as expected, so its own metadata could not be blanked");
        }

        var entries = xref + header.Length;
        (int Start, int End) Object(string number)
        {
            var start = int.Parse(whole.AsSpan(entries + (20 * int.Parse(number, CultureInfo.InvariantCulture)), 10), CultureInfo.InvariantCulture);
            var end = whole.IndexOf("endobj", start, StringComparison.Ordinal);
            return end < 0 ? throw new NotCleanedException("PDFsharp's output has an object without its end") : (start, end);
        }

        var (infoStart, infoEnd) = Object(info.Groups[1].Value);
        var open = whole.IndexOf("<<", infoStart, infoEnd - infoStart, StringComparison.Ordinal);
        var close = whole.LastIndexOf(">>", infoEnd, infoEnd - infoStart, StringComparison.Ordinal);
        if (open < 0 || close < open)
        {
            throw new NotCleanedException("PDFsharp's document information is not a dictionary");
        }

        Array.Fill(text, ' ', open + 2, close - open - 2);
        var (rootStart, rootEnd) = Object(root.Groups[1].Value);
        var metadata = Regex.Match(whole[rootStart..rootEnd], @"/Metadata (\d+) 0 R");
        if (metadata.Success)
        {
            Array.Fill(text, ' ', rootStart + metadata.Index, metadata.Length);
            var (xmpStart, xmpEnd) = Object(metadata.Groups[1].Value);
            var body = whole.IndexOf(" obj", xmpStart, xmpEnd - xmpStart, StringComparison.Ordinal) + 4;
            Array.Fill(text, ' ', body, xmpEnd - body);
            "\nnull\n".CopyTo(0, text, body, 6);
        }

        var signature = whole.IndexOf("% Created with PDFsharp", trailer, StringComparison.Ordinal);
        if (signature >= 0)
        {
            var lineEnd = whole.IndexOf('\n', signature);
            Array.Fill(text, ' ', signature + 1, (lineEnd < 0 ? whole.Length : lineEnd) - signature - 1);
        }

        return Encoding.Latin1.GetBytes(text);
    }

    private static int Digits(ReadOnlySpan<char> text)
    {
        var count = 0;
        while (count < text.Length && char.IsAsciiDigit(text[count]))
        {
            count++;
        }

        return count;
    }

    private static void RemoveInformation(PdfDocument document, ScrubLog log)
    {
        var info = document.Info.Elements;
        // PDFsharp sets /ModDate itself when it opens a file for changing, so it tells nothing about the file.
        var names = info.Keys.Where(name => name != "/ModDate").ToList();
        foreach (var name in names)
        {
            log.Remove($"document information: {InfoNames.GetValueOrDefault(name) ?? "custom fields"}");
        }

        info.Clear();
    }

    private static void RemoveFromCatalog(PdfCatalog catalog, ScrubLog log)
    {
        if (catalog.Elements.Remove("/Metadata"))
        {
            log.Remove("XMP metadata of the document");
        }

        if (catalog.Elements.GetDictionary("/Names") is { } names && names.Elements.Remove("/EmbeddedFiles"))
        {
            log.Remove("attached files (left out: they are not cleaned)");
        }
    }

    private static void RemoveMarkup(PdfPage page, ScrubLog log)
    {
        if (page.Elements.GetArray("/Annots") is not { } annotations)
        {
            return;
        }

        for (var i = annotations.Elements.Count - 1; i >= 0; i--)
        {
            var annotation = annotations.Elements.GetDictionary(i);
            if (annotation?.Elements.GetName("/Subtype") is { } subtype && Markup.Contains(subtype))
            {
                annotations.Elements.RemoveAt(i);
                log.Remove("comments and markup, with their authors and dates");
            }
        }
    }

    private static int Count(ReadOnlySpan<byte> data, ReadOnlySpan<byte> text)
    {
        var count = 0;
        int at;
        while ((at = data.IndexOf(text)) >= 0)
        {
            count++;
            data = data[(at + text.Length)..];
        }

        return count;
    }

    private static string OneLine(string message) => TerminalText.Clean(message.ReplaceLineEndings(" "), 200);
}
