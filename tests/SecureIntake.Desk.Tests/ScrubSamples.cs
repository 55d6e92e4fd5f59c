using System.Globalization;
using System.IO.Compression;
using System.Text;
using DocumentFormat.OpenXml.ExtendedProperties;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Wordprocessing;
using SecureIntake.Testing;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.Metadata.Profiles.Iptc;
using SixLabors.ImageSharp.Metadata.Profiles.Xmp;
using SixLabors.ImageSharp.PixelFormats;

namespace SecureIntake.Desk.Tests;

/// <summary>
/// Files a witness might send, made here with metadata planted in them: each planted value is a string that
/// occurs nowhere else, so a search of the cleaned bytes (or of their decompressed parts) proves it gone.
/// </summary>
internal static class ScrubSamples
{
    public const string Serial = "SN4711WITNESSCAM";
    public const string CameraMake = "WitnessCamMaker";
    public const string Byline = "Jane Witness Byline";
    public const string XmpCreator = "Xmp Creator Petrova";
    public const string JpegComment = "shot from the balcony of flat 12";
    public const string Trailer = "maker trailer after the image";

    public const string PngAuthor = "Png Author Sergeyev";
    public const string PngCompressed = "zipped comment about the square";
    public const string PngInternational = "Куәгер Алматы";

    public const string PdfAuthor = "Pdf Author Ivanova";
    public const string PdfLaterAuthor = "Later Author Karimov";
    public const string PdfCreator = "Planted Writer 9.1";
    public const string PdfCommenter = "Commenter Abenov";
    public const string PdfCommentText = "annotation about the source";
    public const string PdfFileId = "0BADC0FFEE0BADC0FFEE0BADC0FFEE00";
    public const string PdfPageText = "Visible page text";

    public const string DocxAuthor = "Docx Author Nurlanova";
    public const string DocxEditor = "Boss Sergeyev";
    public const string DocxCompany = "Planted Company LLC";
    public const string DocxReviewer = "Reviewer Ivanov";
    public const string DocxDeleted = "secret deleted words";
    public const string DocxInserted = "inserted words stay";
    public const string DocxCommenter = "Commenter Petrova";
    public const string DocxComment = "planted comment text";
    public const string DocxRsid = "00A1B2C3";
    public const string DocxKept = "Kept sentence about the square.";

    /// <summary>A photo with GPS, a camera serial number and make in EXIF, XMP, IPTC, a comment and data after its end.</summary>
    public static byte[] Jpeg()
    {
        using var image = Picture();
        var exif = new ExifProfile();
        exif.SetValue(ExifTag.Make, CameraMake);
        exif.SetValue(ExifTag.Model, "X1");
        exif.SetValue(ExifTag.SerialNumber, Serial);
        exif.SetValue(ExifTag.GPSLatitudeRef, "N");
        exif.SetValue(ExifTag.GPSLatitude, [new Rational(43, 1), new Rational(14, 1), new Rational(3012, 100)]);
        exif.SetValue(ExifTag.GPSLongitudeRef, "E");
        exif.SetValue(ExifTag.GPSLongitude, [new Rational(76, 1), new Rational(56, 1), new Rational(1500, 100)]);
        image.Metadata.ExifProfile = exif;
        image.Metadata.XmpProfile = new XmpProfile(Encoding.UTF8.GetBytes(XmpPacket(XmpCreator)));
        var iptc = new IptcProfile();
        iptc.SetValue(IptcTag.Byline, Byline);
        image.Metadata.IptcProfile = iptc;
        using var encoded = new MemoryStream();
        image.SaveAsJpeg(encoded, new JpegEncoder { Quality = 90 });
        var bytes = encoded.ToArray();
        var comment = Encoding.ASCII.GetBytes(JpegComment);
        return [.. bytes[..2], 0xFF, 0xFE, 0, (byte)(comment.Length + 2), .. comment, .. bytes[2..], .. Encoding.ASCII.GetBytes(Trailer)];
    }

    /// <summary>A picture with text in tEXt, zTXt and iTXt chunks, a tIME chunk and EXIF with a serial number.</summary>
    public static byte[] Png()
    {
        using var image = Picture();
        using var encoded = new MemoryStream();
        image.SaveAsPng(encoded);
        var bytes = encoded.ToArray();
        var afterHeader = 8 + 12 + 13;
        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            zlib.Write(Encoding.Latin1.GetBytes(PngCompressed));
        }

        byte[][] chunks =
        [
            Chunk("tEXt", [.. "Author\0"u8, .. Encoding.Latin1.GetBytes(PngAuthor)]),
            Chunk("zTXt", [.. "Comment\0\0"u8, .. compressed.ToArray()]),
            Chunk("iTXt", [.. "Description\0\0\0kk\0\0"u8, .. Encoding.UTF8.GetBytes(PngInternational)]),
            Chunk("tIME", [0x07, 0xEA, 11, 30, 14, 10, 0]),
            Chunk("eXIf", ExifWithSerial()),
        ];
        return [.. bytes[..afterHeader], .. chunks.SelectMany(chunk => chunk), .. bytes[afterHeader..]];
    }

    /// <summary>A PNG chunk with its CRC, for building PNGs by hand.</summary>
    public static byte[] Chunk(string type, byte[] data)
    {
        byte[] typeAndData = [.. Encoding.ASCII.GetBytes(type), .. data];
        var length = data.Length;
        var crc = Crc32(typeAndData);
        return [(byte)(length >> 24), (byte)(length >> 16), (byte)(length >> 8), (byte)length, .. typeAndData,
            (byte)(crc >> 24), (byte)(crc >> 16), (byte)(crc >> 8), (byte)crc];
    }

    /// <summary>
    /// A one-page PDF with author, creator, dates and a file id in its information, XMP metadata, a comment, and
    /// an incremental update that changed the author: the first author is still in the file, after its end.
    /// </summary>
    public static byte[] Pdf()
    {
        var content = $"BT /F1 24 Tf 72 700 Td ({PdfPageText}) Tj ET";
        var xmp = XmpPacket(XmpCreator);
        string[] objects =
        [
            "<< /Type /Catalog /Pages 2 0 R /Metadata 5 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 6 0 R >> >> /Annots [8 0 R] >>",
            $"<< /Length {content.Length} >>\nstream\n{content}\nendstream",
            $"<< /Type /Metadata /Subtype /XML /Length {Encoding.UTF8.GetByteCount(xmp)} >>\nstream\n{xmp}\nendstream",
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            $"<< /Author ({PdfAuthor}) /Creator ({PdfCreator}) /Title (Leak draft) /CreationDate (D:20261130120000Z) >>",
            $"<< /Type /Annot /Subtype /Text /Rect [100 100 120 120] /T ({PdfCommenter}) /Contents ({PdfCommentText}) >>",
        ];
        var pdf = new StringBuilder("%PDF-1.7\n");
        var offsets = new List<int>();
        for (var i = 0; i < objects.Length; i++)
        {
            offsets.Add(Encoding.UTF8.GetByteCount(pdf.ToString()));
            pdf.Append(CultureInfo.InvariantCulture, $"{i + 1} 0 obj\n{objects[i]}\nendobj\n");
        }

        var xref = Encoding.UTF8.GetByteCount(pdf.ToString());
        pdf.Append(CultureInfo.InvariantCulture, $"xref\n0 {objects.Length + 1}\n0000000000 65535 f \n");
        foreach (var offset in offsets)
        {
            pdf.Append(CultureInfo.InvariantCulture, $"{offset:D10} 00000 n \n");
        }

        pdf.Append(CultureInfo.InvariantCulture, $"trailer\n<< /Size {objects.Length + 1} /Root 1 0 R /Info 7 0 R /ID [<{PdfFileId}><{PdfFileId}>] >>\nstartxref\n{xref}\n%%EOF\n");
        var update = Encoding.UTF8.GetByteCount(pdf.ToString());
        pdf.Append(CultureInfo.InvariantCulture, $"9 0 obj\n<< /Author ({PdfLaterAuthor}) >>\nendobj\n");
        var secondXref = Encoding.UTF8.GetByteCount(pdf.ToString());
        pdf.Append(CultureInfo.InvariantCulture, $"xref\n9 1\n{update:D10} 00000 n \n");
        pdf.Append(CultureInfo.InvariantCulture, $"trailer\n<< /Size 10 /Root 1 0 R /Info 9 0 R /Prev {xref} /ID [<{PdfFileId}><{PdfFileId}>] >>\nstartxref\n{secondXref}\n%%EOF\n");
        return Encoding.UTF8.GetBytes(pdf.ToString());
    }

    /// <summary>A Word file with author and editor, company, tracked insertions and deletions, a comment, rsids and a photo with EXIF.</summary>
    public static byte[] Docx()
    {
        using var stream = new MemoryStream();
        using (var document = WordprocessingDocument.Create(stream, DocumentFormat.OpenXml.WordprocessingDocumentType.Document))
        {
            var main = document.AddMainDocumentPart();
            main.Document = new Document(new Body(
                new Paragraph(new Run(new Text(DocxKept))) { RsidParagraphAddition = DocxRsid, RsidRunAdditionDefault = DocxRsid },
                new Paragraph(
                    new InsertedRun(new Run(new Text(DocxInserted) { Space = DocumentFormat.OpenXml.SpaceProcessingModeValues.Preserve }))
                    {
                        Author = DocxReviewer,
                        Date = new DateTime(2026, 11, 30, 12, 0, 0, DateTimeKind.Utc),
                        Id = "1",
                    },
                    new DeletedRun(new Run(new DeletedText(DocxDeleted))) { Author = DocxReviewer, Id = "2" },
                    new CommentRangeStart { Id = "0" },
                    new Run(new Text(" commented words") { Space = DocumentFormat.OpenXml.SpaceProcessingModeValues.Preserve }),
                    new CommentRangeEnd { Id = "0" },
                    new Run(new CommentReference { Id = "0" }))));
            var comments = main.AddNewPart<WordprocessingCommentsPart>();
            comments.Comments = new Comments(new Comment(new Paragraph(new Run(new Text(DocxComment)))) { Id = "0", Author = DocxCommenter, Initials = "CP" });
            var settings = main.AddNewPart<DocumentSettingsPart>();
            settings.Settings = new Settings(new TrackRevisions(), new Rsids(new RsidRoot { Val = DocxRsid }, new Rsid { Val = DocxRsid }));
            var picture = main.AddImagePart(ImagePartType.Jpeg);
            using (var photo = new MemoryStream(Jpeg()))
            {
                picture.FeedData(photo);
            }

            document.PackageProperties.Creator = DocxAuthor;
            document.PackageProperties.LastModifiedBy = DocxEditor;
            document.PackageProperties.Title = "Leak draft";
            var application = document.AddExtendedFilePropertiesPart();
            application.Properties = new Properties(new Company(DocxCompany), new Manager("Manager Tokayev"));
        }

        return stream.ToArray();
    }

    /// <summary>Every entry of a ZIP (an Office file) decompressed and joined, so that deflated text can be searched.</summary>
    /// <summary>
    /// Writes <paramref name="original"/> as <paramref name="name"/> in <paramref name="files"/>, runs `scrub` on it, checks
    /// the run succeeded and left the original byte for byte, and returns the clean copy written beside it.
    /// </summary>
    public static async Task<byte[]> ScrubAsync(TemporaryDirectory files, string name, byte[] original)
    {
        var path = files.File(name);
        await File.WriteAllBytesAsync(path, original);

        var result = await DeskTool.RunAsync([], "scrub", path);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal(original, await File.ReadAllBytesAsync(path));
        return await File.ReadAllBytesAsync(files.File(Path.GetFileNameWithoutExtension(name) + ".clean" + Path.GetExtension(name)));
    }

    public static string Unzipped(byte[] zip)
    {
        using var archive = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read);
        var all = new StringBuilder();
        foreach (var entry in archive.Entries)
        {
            using var reader = new StreamReader(entry.Open(), Encoding.Latin1);
            all.Append(entry.FullName).Append('\n').Append(reader.ReadToEnd()).Append('\n');
        }

        return all.ToString();
    }

    public static Image<Rgb24> Picture()
    {
        var image = new Image<Rgb24>(64, 48);
        for (var y = 0; y < image.Height; y++)
        {
            for (var x = 0; x < image.Width; x++)
            {
                image[x, y] = new Rgb24((byte)(x * 4), (byte)(y * 5), (byte)((x + y) * 2));
            }
        }

        return image;
    }

    private static byte[] ExifWithSerial()
    {
        var exif = new ExifProfile();
        exif.SetValue(ExifTag.SerialNumber, Serial);
        exif.SetValue(ExifTag.Make, CameraMake);
        var bytes = exif.ToByteArray();
        return bytes.AsSpan().StartsWith("Exif\0\0"u8) ? bytes[6..] : bytes;
    }

    private static string XmpPacket(string creator) => $"""
        <?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator><rdf:Seq><rdf:li>{creator}</rdf:li></rdf:Seq></dc:creator></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>
        """;

    private static uint Crc32(byte[] data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
            }
        }

        return ~crc;
    }
}
