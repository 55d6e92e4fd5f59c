using System.IO.Compression;
using System.Xml;
using System.Xml.Linq;

namespace SecureIntake.Desk.Scrub;

internal enum OfficeKind
{
    Unknown,
    Word,
    Excel,
    PowerPoint,
}

/// <summary>
/// Whether an Office Open XML file is a Word, Excel or PowerPoint one, by the content type of the part its package
/// names as the main document. The Open XML SDK does not say: WordprocessingDocument.Open accepts a workbook and
/// only fails later, on the first part whose content type differs between the two (a workbook's comments), so a
/// workbook tried as a Word file would never be cleaned as a workbook.
/// </summary>
internal static class OfficePackageKind
{
    private const string PackageRelationships = "http://schemas.openxmlformats.org/package/2006/relationships";
    private const string ContentTypes = "http://schemas.openxmlformats.org/package/2006/content-types";

    public static OfficeKind Of(byte[] input)
    {
        try
        {
            using var zip = new ZipArchive(new MemoryStream(input, writable: false), ZipArchiveMode.Read);
            var main = Load(zip, "_rels/.rels")?.Root?.Elements(XName.Get("Relationship", PackageRelationships))
                .FirstOrDefault(relationship => ((string?)relationship.Attribute("Type"))?.EndsWith("/officeDocument", StringComparison.Ordinal) == true)
                ?.Attribute("Target")?.Value;
            if (main is null || Load(zip, "[Content_Types].xml")?.Root is not { } types)
            {
                return OfficeKind.Unknown;
            }

            var partName = "/" + Uri.UnescapeDataString(main).TrimStart('/');
            var contentType = types.Elements(XName.Get("Override", ContentTypes))
                .FirstOrDefault(entry => string.Equals((string?)entry.Attribute("PartName"), partName, StringComparison.OrdinalIgnoreCase))
                ?.Attribute("ContentType")?.Value
                ?? types.Elements(XName.Get("Default", ContentTypes))
                    .FirstOrDefault(entry => string.Equals((string?)entry.Attribute("Extension"), Path.GetExtension(partName).TrimStart('.'), StringComparison.OrdinalIgnoreCase))
                    ?.Attribute("ContentType")?.Value;
            return KindOf(contentType ?? "");
        }
        catch (Exception e) when (e is InvalidDataException or IOException or XmlException or UriFormatException)
        {
            return OfficeKind.Unknown;
        }
    }

    public static string Describe(OfficeKind kind) => kind switch
    {
        OfficeKind.Word => "Word document (Office Open XML)",
        OfficeKind.Excel => "Excel workbook (Office Open XML)",
        OfficeKind.PowerPoint => "PowerPoint presentation (Office Open XML)",
        _ => "ZIP archive with Office-style parts, but no Word, Excel or PowerPoint main document",
    };

    private static OfficeKind KindOf(string contentType) =>
        contentType.StartsWith("application/vnd.openxmlformats-officedocument.wordprocessingml.", StringComparison.OrdinalIgnoreCase)
            || contentType.StartsWith("application/vnd.ms-word.", StringComparison.OrdinalIgnoreCase) ? OfficeKind.Word
        : contentType.StartsWith("application/vnd.openxmlformats-officedocument.spreadsheetml.", StringComparison.OrdinalIgnoreCase)
            || contentType.StartsWith("application/vnd.ms-excel.", StringComparison.OrdinalIgnoreCase) ? OfficeKind.Excel
        : contentType.StartsWith("application/vnd.openxmlformats-officedocument.presentationml.", StringComparison.OrdinalIgnoreCase)
            || contentType.StartsWith("application/vnd.ms-powerpoint.", StringComparison.OrdinalIgnoreCase) ? OfficeKind.PowerPoint
        : OfficeKind.Unknown;

    /// <summary>One XML part of the package, DTDs refused (XDocument.Load alone would expand their entities).</summary>
    private static XDocument? Load(ZipArchive zip, string name)
    {
        if (zip.GetEntry(name) is not { } entry)
        {
            return null;
        }

        using var stream = entry.Open();
        using var reader = XmlReader.Create(stream, new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null });
        return XDocument.Load(reader);
    }
}
