using System.Text;
using DocumentFormat.OpenXml.Packaging;
using MetadataExtractor;
using MetadataExtractor.Formats.Exif;
using MetadataExtractor.Formats.Iptc;
using MetadataExtractor.Formats.Jpeg;
using MetadataExtractor.Formats.Xmp;
using PdfSharp.Pdf.IO;
using SecureIntake.Testing;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static SecureIntake.Desk.Tests.ScrubSamples;

namespace SecureIntake.Desk.Tests;

/// <summary>`secureintake-desk scrub`, run as the real executable on files made in the test.</summary>
public sealed class ScrubCommandTests : IDisposable
{
    private readonly TemporaryDirectory _files = new("si-desk-scrub-");

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task A_photo_loses_gps_serial_xmp_iptc_and_comment_and_keeps_its_pixels_and_original()
    {
        var original = Jpeg();
        var photo = Write("photo.jpg", original);
        Assert.Contains(Directories(original), directory => directory is GpsDirectory);
        Assert.Contains(Directories(original), directory => directory is XmpDirectory);
        Assert.Contains(Directories(original), directory => directory is IptcDirectory);
        Assert.Contains(Directories(original), directory => directory is JpegCommentDirectory);

        var result = await ScrubAsync(photo);

        Assert.True(result.ExitCode == 0, result.Error);
        var clean = await File.ReadAllBytesAsync(_files.File("photo.clean.jpg"));
        var left = Directories(clean);
        Assert.DoesNotContain(left, directory => directory is GpsDirectory or ExifIfd0Directory or ExifSubIfdDirectory
            or XmpDirectory or IptcDirectory or JpegCommentDirectory or MetadataExtractor.Formats.Photoshop.PhotoshopDirectory);
        foreach (var planted in new[] { Serial, CameraMake, Byline, XmpCreator, JpegComment, Trailer })
        {
            Assert.True(Contains(original, planted), $"the sample lacks {planted}");
            Assert.False(Contains(clean, planted), $"the clean copy still holds {planted}");
        }

        using var before = Image.Load<Rgb24>(original);
        using var after = Image.Load<Rgb24>(clean);
        Assert.Equal((before.Width, before.Height), (after.Width, after.Height));
        Assert.True(SamePixels(before, after), "the clean copy shows another picture");
        Assert.Equal(original, await File.ReadAllBytesAsync(photo));
        var report = await File.ReadAllTextAsync(_files.File("photo.jpg.scrub.txt"));
        Assert.Contains("GPS position", report);
        Assert.Contains("camera serial number", report);
        Assert.Contains("XMP", report);
        Assert.Contains("IPTC", report);
        Assert.Contains("photo.clean.jpg", result.OutputText);
    }

    [Fact]
    public async Task A_png_loses_its_text_time_and_exif_chunks_and_keeps_its_pixels_and_original()
    {
        var original = Png();
        var picture = Write("screen.png", original);
        Assert.Contains(Text(original), text => text.Contains(PngCompressed, StringComparison.Ordinal));

        var result = await ScrubAsync(picture);

        Assert.True(result.ExitCode == 0, result.Error);
        var clean = await File.ReadAllBytesAsync(_files.File("screen.clean.png"));
        var left = Directories(clean);
        Assert.DoesNotContain(left, directory => directory.Name is "PNG-tEXt" or "PNG-zTXt" or "PNG-iTXt" or "PNG-tIME" || directory is ExifIfd0Directory);
        foreach (var planted in new[] { PngAuthor, PngCompressed, PngInternational, Serial, CameraMake })
        {
            Assert.DoesNotContain(Text(clean), text => text.Contains(planted, StringComparison.Ordinal));
            Assert.False(Contains(clean, planted), $"the clean copy still holds {planted}");
        }

        Assert.True(Contains(original, PngAuthor));
        using var before = Image.Load<Rgb24>(original);
        using var after = Image.Load<Rgb24>(clean);
        Assert.True(SamePixels(before, after), "the clean copy shows another picture");
        Assert.Equal(original, await File.ReadAllBytesAsync(picture));
        var report = await File.ReadAllTextAsync(_files.File("screen.png.scrub.txt"));
        Assert.Contains("tEXt", report);
        Assert.Contains("tIME", report);
    }

    [Fact]
    public async Task A_pdf_loses_its_information_xmp_comments_and_earlier_versions_and_keeps_its_page()
    {
        var original = Pdf();
        var document = Write("leak.pdf", original);

        var result = await ScrubAsync(document);

        Assert.True(result.ExitCode == 0, result.Error);
        var clean = await File.ReadAllBytesAsync(_files.File("leak.clean.pdf"));
        foreach (var planted in new[] { PdfAuthor, PdfLaterAuthor, PdfCreator, XmpCreator, PdfCommenter, PdfCommentText, PdfFileId })
        {
            Assert.True(Contains(original, planted), $"the sample lacks {planted}");
            Assert.False(Contains(clean, planted), $"the clean copy still holds {planted}");
        }

        using (var reopened = PdfReader.Open(new MemoryStream(clean), PdfDocumentOpenMode.Import))
        {
            Assert.Equal(1, reopened.PageCount);
            Assert.False(reopened.Internals.Catalog.Elements.ContainsKey("/Metadata"));
            Assert.DoesNotContain(reopened.Info.Elements.Keys, key => key is "/Author" or "/Creator" or "/Title" or "/CreationDate");
        }

        Assert.True(Contains(clean, PdfPageText), "the page's text is gone");
        Assert.Equal(original, await File.ReadAllBytesAsync(document));
        var report = await File.ReadAllTextAsync(_files.File("leak.pdf.scrub.txt"));
        Assert.Contains("author", report);
        Assert.Contains("XMP", report);
        Assert.Contains("earlier saved versions", report);
    }

    [Fact]
    public async Task A_word_file_loses_authors_properties_comments_and_tracked_changes_and_keeps_its_text()
    {
        var original = Docx();
        var document = Write("draft.docx", original);

        var result = await ScrubAsync(document);

        Assert.True(result.ExitCode == 0, result.Error);
        var clean = await File.ReadAllBytesAsync(_files.File("draft.clean.docx"));
        var before = Unzipped(original);
        var after = Unzipped(clean);
        foreach (var planted in new[] { DocxAuthor, DocxEditor, DocxCompany, DocxReviewer, DocxDeleted, DocxCommenter, DocxComment, DocxRsid, Serial })
        {
            Assert.Contains(planted, before, StringComparison.Ordinal);
            Assert.DoesNotContain(planted, after, StringComparison.Ordinal);
        }

        using (var reopened = WordprocessingDocument.Open(new MemoryStream(clean), false))
        {
            var text = reopened.MainDocumentPart!.Document!.Body!.InnerText;
            Assert.Contains(DocxKept, text, StringComparison.Ordinal);
            Assert.Contains(DocxInserted + " commented words", text, StringComparison.Ordinal);
            var picture = reopened.MainDocumentPart.ImageParts.Single();
            using var stream = picture.GetStream();
            using var decoded = Image.Load<Rgb24>(stream);
            Assert.Equal(64, decoded.Width);
        }

        Assert.Equal(original, await File.ReadAllBytesAsync(document));
        var report = await File.ReadAllTextAsync(_files.File("draft.docx.scrub.txt"));
        Assert.Contains("Type (by its content): Word document", report);
        Assert.Contains("document properties: author", report);
        Assert.Contains("tracked changes", report);
        Assert.Contains("comments", report);
        Assert.Contains("in embedded pictures: EXIF", report);
    }

    [Fact]
    public async Task An_unknown_type_is_reported_as_not_cleaned_and_gets_no_clean_copy()
    {
        var original = Encoding.ASCII.GetBytes("RIFFxxxxAVI some recording the tool does not know " + Serial);
        var file = Write("recording.xyz", original);

        var result = await ScrubAsync(file);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("NOT CLEANED recording.xyz", result.Error);
        Assert.False(File.Exists(_files.File("recording.clean.xyz")));
        var report = await File.ReadAllTextAsync(_files.File("recording.xyz.scrub.txt"));
        Assert.StartsWith("NOT CLEANED", report);
        Assert.Equal(original, await File.ReadAllBytesAsync(file));
    }

    [Theory]
    [InlineData("cut.jpg")]
    [InlineData("cut.png")]
    public async Task A_damaged_picture_is_reported_as_not_cleaned_rather_than_half_cleaned(string name)
    {
        var whole = name.EndsWith(".jpg", StringComparison.Ordinal) ? Jpeg() : Png();
        var file = Write(name, whole[..(whole.Length / 2)]);

        var result = await ScrubAsync(file);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"NOT CLEANED {name}", result.Error);
        Assert.Empty(System.IO.Directory.GetFiles(_files.Path, "cut.clean*"));
        Assert.StartsWith("NOT CLEANED", await File.ReadAllTextAsync(_files.File(name + ".scrub.txt")));
    }

    [Fact]
    public async Task A_png_with_a_critical_chunk_the_tool_does_not_know_is_not_cleaned()
    {
        var png = Png();
        var file = Write("odd.png", [.. png[..33], .. Chunk("QQQQ", [1, 2, 3]), .. png[33..]]);

        var result = await ScrubAsync(file);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("critical chunk 'QQQQ'", result.Error);
        Assert.False(File.Exists(_files.File("odd.clean.png")));
    }

    [Fact]
    public async Task A_file_the_type_is_guessed_from_by_content_not_by_its_name()
    {
        var file = Write("holiday.txt", Jpeg());

        var result = await ScrubAsync(file);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.False(Contains(await File.ReadAllBytesAsync(_files.File("holiday.clean.txt")), Serial));
        Assert.Contains("JPEG image", await File.ReadAllTextAsync(_files.File("holiday.txt.scrub.txt")));
    }

    [Fact]
    public async Task An_existing_file_under_the_clean_name_is_never_replaced()
    {
        var photo = Write("photo.jpg", Jpeg());
        var witnessOwn = Write("photo.clean.jpg", "the witness's own file"u8.ToArray());

        var result = await ScrubAsync(photo);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal("the witness's own file"u8.ToArray(), await File.ReadAllBytesAsync(witnessOwn));
        Assert.False(Contains(await File.ReadAllBytesAsync(_files.File("photo.clean (2).jpg")), Serial));
        Assert.Contains("photo.clean (2).jpg", result.OutputText);
    }

    [Fact]
    public async Task Several_files_are_cleaned_in_one_run_and_the_exit_code_says_one_was_not()
    {
        var photo = Write("a.jpg", Jpeg());
        var unknown = Write("b.bin", [1, 2, 3, 4]);

        var result = await ScrubAsync(photo, unknown);

        Assert.Equal(1, result.ExitCode);
        Assert.True(File.Exists(_files.File("a.clean.jpg")));
        Assert.Contains("1 file(s) were NOT cleaned", result.Error);
    }

    [Fact]
    public async Task Without_mat2_an_opendocument_file_is_not_cleaned_and_the_report_says_mat2_is_missing()
    {
        var file = Write("notes.odt", OpenDocument());
        var empty = System.IO.Directory.CreateDirectory(_files.File("empty-path")).FullName;

        var result = await DeskTool.RunAsync([], new Dictionary<string, string> { ["PATH"] = empty }, "scrub", file);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("mat2 is not installed", result.Error);
        Assert.False(File.Exists(_files.File("notes.clean.odt")));
    }

    [Fact]
    public async Task With_mat2_installed_an_opendocument_file_is_cleaned_by_mat2_and_the_report_names_it()
    {
        ExternalTool.Require("mat2", "mat2");
        var original = OpenDocument();
        var file = Write("notes.odt", original);

        var result = await ScrubAsync(file);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains(DocxAuthor, Unzipped(original), StringComparison.Ordinal);
        Assert.DoesNotContain(DocxAuthor, Unzipped(await File.ReadAllBytesAsync(_files.File("notes.clean.odt"))), StringComparison.Ordinal);
        var report = await File.ReadAllTextAsync(_files.File("notes.odt.scrub.txt"));
        Assert.Contains("Cleaned by: mat2", report);
        Assert.Contains("meta:initial-creator", report);
        Assert.Equal(original, await File.ReadAllBytesAsync(file));
        Assert.Empty(System.IO.Directory.GetDirectories(_files.Path, ".scrub-*"));
    }

    [Fact]
    public async Task The_help_says_what_each_method_covers_and_what_scrubbing_cannot_remove()
    {
        var result = await DeskTool.RunAsync([], "scrub", "--help");

        Assert.Contains("PDFsharp", result.OutputText);
        Assert.Contains("Open XML SDK", result.OutputText);
        Assert.Contains("mat2", result.OutputText);
        Assert.Contains("not what it shows", result.OutputText);
        foreach (var covered in new[] { "JPEG (this tool)", "PNG (this tool)", "PDF (PDFsharp)", ".docx/.xlsx/.pptx", "mat2 when it is installed", "NOT CLEANED" })
        {
            Assert.Contains(covered, result.OutputText, StringComparison.Ordinal);
        }

        Assert.Contains("in the pixels", result.OutputText, StringComparison.Ordinal);
        Assert.Contains("words", result.OutputText, StringComparison.Ordinal);
    }

    private static byte[] OpenDocument()
    {
        using var stream = new MemoryStream();
        using (var zip = new System.IO.Compression.ZipArchive(stream, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true))
        {
            void Add(string name, string text)
            {
                using var writer = new StreamWriter(zip.CreateEntry(name).Open());
                writer.Write(text);
            }

            Add("mimetype", "application/vnd.oasis.opendocument.text");
            Add("META-INF/manifest.xml", """<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/><manifest:file-entry manifest:full-path="meta.xml" manifest:media-type="text/xml"/></manifest:manifest>""");
            Add("meta.xml", $"""<?xml version="1.0" encoding="UTF-8"?><office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" office:version="1.2"><office:meta><meta:initial-creator>{DocxAuthor}</meta:initial-creator></office:meta></office:document-meta>""");
            Add("content.xml", """<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:text><text:p>Kept words.</text:p></office:text></office:body></office:document-content>""");
        }

        return stream.ToArray();
    }

    private static Task<ToolResult> ScrubAsync(params string[] files) => DeskTool.RunAsync([], ["scrub", .. files]);

    private string Write(string name, byte[] content)
    {
        var path = _files.File(name);
        File.WriteAllBytes(path, content);
        return path;
    }

    private static IReadOnlyList<MetadataExtractor.Directory> Directories(byte[] file) => ImageMetadataReader.ReadMetadata(new MemoryStream(file));

    /// <summary>Every tag's description as MetadataExtractor reads it, compressed text chunks decompressed.</summary>
    private static List<string> Text(byte[] file) =>
        Directories(file).SelectMany(directory => directory.Tags).Select(tag => tag.Description ?? "").ToList();

    private static bool Contains(byte[] file, string text) =>
        file.AsSpan().IndexOf(Encoding.UTF8.GetBytes(text)) >= 0 || file.AsSpan().IndexOf(Encoding.Latin1.GetBytes(text)) >= 0;

    private static bool SamePixels(Image<Rgb24> first, Image<Rgb24> second)
    {
        for (var y = 0; y < first.Height; y++)
        {
            for (var x = 0; x < first.Width; x++)
            {
                if (first[x, y] != second[x, y])
                {
                    return false;
                }
            }
        }

        return true;
    }
}
