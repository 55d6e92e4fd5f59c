using System.Text;
using PdfSharp.Pdf;
using PdfSharp.Pdf.IO;
using SecureIntake.Testing;
using static SecureIntake.Desk.Tests.PdfSamples;

namespace SecureIntake.Desk.Tests;

/// <summary>
/// The PDF scrub judged by the cleaned file's raw bytes and every stream in it decoded: an older revision kept after
/// an incremental update is invisible to a PDF reader but not to anyone who opens the file in a text editor.
/// </summary>
public sealed class ScrubPdfTests : IDisposable
{
    private static readonly string[] Planted = [Author, Creator, Producer, Title, XmpMarker];

    private readonly TemporaryDirectory _files = new("si-desk-scrub-pdf-");

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task Author_creator_producer_title_and_xmp_are_nowhere_in_the_clean_bytes()
    {
        var original = WithInformationAndXmp();

        var clean = await ScrubSamples.ScrubAsync(_files, "plain.pdf", original);

        AssertNoneLeft(original, clean, Planted);
        Assert.Contains(PageText, Text(clean), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_older_revision_kept_by_an_incremental_update_is_not_carried_into_the_clean_copy()
    {
        var original = WithIncrementalUpdate();
        using (var latest = PdfReader.Open(new MemoryStream(original), PdfDocumentOpenMode.Import))
        {
            // What a PDF reader shows of the original: none of the planted strings, yet they are all in its bytes.
            Assert.Empty(latest.Info.Elements.Keys);
            Assert.False(latest.Internals.Catalog.Elements.ContainsKey("/Metadata"));
        }

        var clean = await ScrubSamples.ScrubAsync(_files, "updated.pdf", original);

        AssertNoneLeft(original, clean, [.. Planted, OldPageText]);
        Assert.Contains(PageText, Text(clean), StringComparison.Ordinal);
        Assert.Equal(1, Occurrences(clean, "%%EOF"));
        Assert.Equal(1, Occurrences(clean, "startxref"));
        var report = await File.ReadAllTextAsync(_files.File("updated.pdf.scrub.txt"));
        Assert.Contains("earlier saved versions", report, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Older_revisions_in_object_streams_indexed_by_cross_reference_streams_are_not_carried_either()
    {
        var original = WithCompressedRevisions();
        using (var latest = PdfReader.Open(new MemoryStream(original), PdfDocumentOpenMode.Import))
        {
            Assert.Empty(latest.Info.Elements.Keys);
            Assert.Contains(PageText, Text(original), StringComparison.Ordinal);
        }

        var clean = await ScrubSamples.ScrubAsync(_files, "packed.pdf", original);

        AssertNoneLeft(original, clean, [.. Planted, OldPageText]);
        Assert.Contains(PageText, Text(clean), StringComparison.Ordinal);
        Assert.Equal(1, Occurrences(clean, "%%EOF"));
    }

    private static void AssertNoneLeft(byte[] original, byte[] clean, IEnumerable<string> planted)
    {
        var text = Text(clean);
        foreach (var value in planted)
        {
            Assert.True(Occurrences(original, value) > 0, $"the sample lacks {value}");
            Assert.True(Occurrences(clean, value) == 0, $"the clean bytes still hold {value}");
            Assert.DoesNotContain(value, text, StringComparison.Ordinal);
        }

        using var reopened = PdfReader.Open(new MemoryStream(clean), PdfDocumentOpenMode.Import);
        Assert.Equal(1, reopened.PageCount);
        Assert.False(reopened.Internals.Catalog.Elements.ContainsKey("/Metadata"));
        Assert.DoesNotContain(reopened.Info.Elements.Keys, key => key is "/Author" or "/Creator" or "/Producer" or "/Title" or "/CreationDate");
    }

    /// <summary>The raw file and every stream in it decoded, so a compressed stream cannot hide a planted string.</summary>
    private static string Text(byte[] pdf)
    {
        var all = new StringBuilder(Encoding.Latin1.GetString(pdf));
        using var document = PdfReader.Open(new MemoryStream(pdf), PdfDocumentOpenMode.Import);
        foreach (var item in document.Internals.GetAllObjects())
        {
            if (item is PdfDictionary { Stream: { } stream })
            {
                all.Append('\n').Append(Encoding.Latin1.GetString(stream.UnfilteredValue));
            }
        }

        return all.ToString();
    }

    private static int Occurrences(byte[] data, string text)
    {
        var needle = Encoding.Latin1.GetBytes(text);
        var count = 0;
        for (var rest = data.AsSpan(); rest.IndexOf(needle) is var at and >= 0; rest = rest[(at + needle.Length)..])
        {
            count++;
        }

        return count;
    }
}
