using System.Globalization;
using System.Text;

namespace SecureIntake.Desk.Tests;

/// <summary>
/// PDFs written by hand, revision by revision, so that a test knows exactly which bytes an older revision left in
/// the file: an incremental update appends changed objects and a new cross-reference section, and every byte of
/// the revisions before it stays where it was.
/// </summary>
internal static class PdfSamples
{
    public const string Author = "Revision Author Bekova";
    public const string Creator = "Planted Creator Suite 4.2";
    public const string Producer = "Planted Producer Engine 7";
    public const string Title = "Planted Title Dossier";
    public const string XmpMarker = "XmpMarkerZhanibek";
    public const string OldPageText = "Words cut in a later revision";
    public const string PageText = "Page text that stays";

    /// <summary>One revision: author, creator, producer and title in the information, and an XMP packet on the catalog.</summary>
    public static byte[] WithInformationAndXmp() => Write([FirstRevision(PageText)]);

    /// <summary>
    /// Two revisions. The first holds author, creator, producer, title, an XMP packet and a page with words; the update
    /// gives the catalog no XMP, the document an information dictionary with nothing in it, and the page other words.
    /// Every planted string is then only in the older revision, where a reader of the latest one never looks.
    /// </summary>
    public static byte[] WithIncrementalUpdate() => Write(
    [
        FirstRevision(OldPageText),
        new Dictionary<int, string>
        {
            [1] = "<< /Type /Catalog /Pages 2 0 R >>",
            [4] = Stream("", Content(PageText)),
            [7] = "<< >>",
        },
    ]);

    /// <summary>
    /// The same two revisions as <see cref="WithIncrementalUpdate"/> laid out as PDF 1.5 and later writers do: the
    /// dictionaries packed into object streams and each revision indexed by a cross-reference stream.
    /// </summary>
    public static byte[] WithCompressedRevisions()
    {
        var first = FirstRevision(OldPageText);
        var update = new Dictionary<int, string>
        {
            [1] = "<< /Type /Catalog /Pages 2 0 R >>",
            [4] = Stream("", Content(PageText)),
            [7] = "<< >>",
        };
        var pdf = new MemoryStream();
        void Append(string text) => pdf.Write(Encoding.Latin1.GetBytes(text));

        Append("%PDF-1.7\n");
        long? previous = null;
        var next = 8;
        foreach (var revision in new[] { first, update })
        {
            // Streams stay direct objects; every other object goes into this revision's object stream.
            var entries = new SortedDictionary<int, (int Type, long Field2, int Field3)>();
            foreach (var (number, body) in revision.Where(pair => pair.Value.Contains("stream\n", StringComparison.Ordinal)))
            {
                entries[number] = (1, pdf.Length, 0);
                Append(string.Create(CultureInfo.InvariantCulture, $"{number} 0 obj\n{body}\nendobj\n"));
            }

            var packed = revision.Where(pair => !pair.Value.Contains("stream\n", StringComparison.Ordinal)).OrderBy(pair => pair.Key).ToList();
            var header = new StringBuilder();
            var objects = new StringBuilder();
            for (var i = 0; i < packed.Count; i++)
            {
                header.Append(CultureInfo.InvariantCulture, $"{packed[i].Key} {objects.Length} ");
                objects.Append(packed[i].Value).Append('\n');
                entries[packed[i].Key] = (2, next, i);
            }

            var objectStream = next++;
            entries[objectStream] = (1, pdf.Length, 0);
            Append(string.Create(CultureInfo.InvariantCulture,
                $"{objectStream} 0 obj\n<< /Type /ObjStm /N {packed.Count} /First {header.Length} /Length {header.Length + objects.Length} >>\nstream\n{header}{objects}\nendstream\nendobj\n"));

            var xrefStream = next++;
            entries[xrefStream] = (1, pdf.Length, 0);
            var data = new MemoryStream();
            foreach (var (type, field2, field3) in entries.Values)
            {
                data.Write([(byte)type, (byte)(field2 >> 24), (byte)(field2 >> 16), (byte)(field2 >> 8), (byte)field2, (byte)(field3 >> 8), (byte)field3]);
            }

            var index = string.Join(" ", entries.Keys.Select(number => string.Create(CultureInfo.InvariantCulture, $"{number} 1")));
            var prev = previous is null ? "" : string.Create(CultureInfo.InvariantCulture, $" /Prev {previous}");
            var offset = pdf.Length;
            Append(string.Create(CultureInfo.InvariantCulture,
                $"{xrefStream} 0 obj\n<< /Type /XRef /Size {next} /W [1 4 2] /Index [{index}] /Root 1 0 R /Info 7 0 R{prev} /Length {data.Length} >>\nstream\n"));
            pdf.Write(data.ToArray());
            Append(string.Create(CultureInfo.InvariantCulture, $"\nendstream\nendobj\nstartxref\n{offset}\n%%EOF\n"));
            previous = offset;
        }

        return pdf.ToArray();
    }

    private static Dictionary<int, string> FirstRevision(string pageText) => new()
    {
        [1] = "<< /Type /Catalog /Pages 2 0 R /Metadata 5 0 R >>",
        [2] = "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        [3] = "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 6 0 R >> >> >>",
        [4] = Stream("", Content(pageText)),
        [5] = Stream("/Type /Metadata /Subtype /XML", Xmp()),
        [6] = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        [7] = $"<< /Author ({Author}) /Creator ({Creator}) /Producer ({Producer}) /Title ({Title}) /CreationDate (D:20261130120000Z) >>",
    };

    private static string Content(string text) => $"BT /F1 24 Tf 72 700 Td ({text}) Tj ET";

    private static string Stream(string entries, string data) =>
        $"<< {entries} /Length {Encoding.UTF8.GetByteCount(data)} >>\nstream\n{data}\nendstream";

    private static string Xmp() => $"""
        <?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/" xmlns:dc="http://purl.org/dc/elements/1.1/"><pdf:Producer>{XmpMarker}</pdf:Producer><dc:creator><rdf:Seq><rdf:li>{XmpMarker} {Author}</rdf:li></rdf:Seq></dc:creator></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>
        """;

    /// <summary>Each revision appended with its own cross-reference section; the trailer of each points to the one before.</summary>
    private static byte[] Write(IReadOnlyList<Dictionary<int, string>> revisions)
    {
        var pdf = new MemoryStream();
        void Append(string text) => pdf.Write(Encoding.UTF8.GetBytes(text));

        Append("%PDF-1.7\n%\u00e2\u00e3\u00cf\u00d3\n");
        long? previous = null;
        var size = 0;
        foreach (var revision in revisions)
        {
            var offsets = new SortedDictionary<int, long>();
            foreach (var (number, body) in revision.OrderBy(pair => pair.Key))
            {
                offsets[number] = pdf.Length;
                Append(string.Create(CultureInfo.InvariantCulture, $"{number} 0 obj\n{body}\nendobj\n"));
            }

            size = Math.Max(size, offsets.Keys.Max() + 1);
            var xref = pdf.Length;
            var table = new StringBuilder("xref\n");
            if (previous is null)
            {
                // The first section starts at object 0, the head of the free list.
                table.Append(CultureInfo.InvariantCulture, $"0 1\n0000000000 65535 f \n");
            }

            foreach (var (number, offset) in offsets)
            {
                table.Append(CultureInfo.InvariantCulture, $"{number} 1\n{offset:D10} 00000 n \n");
            }

            var prev = previous is null ? "" : string.Create(CultureInfo.InvariantCulture, $" /Prev {previous}");
            table.Append(CultureInfo.InvariantCulture, $"trailer\n<< /Size {size} /Root 1 0 R /Info 7 0 R{prev} >>\nstartxref\n{xref}\n%%EOF\n");
            Append(table.ToString());
            previous = xref;
        }

        return pdf.ToArray();
    }
}
