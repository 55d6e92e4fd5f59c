using System.Xml;
using System.Xml.Linq;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;

namespace SecureIntake.Desk.Scrub;

/// <summary>
/// The boxes Excel pops a sheet's notes up in. They live in the sheet's VML drawing, apart from the comments part,
/// and some programs write the note's text into them, so dropping the comments part alone can leave the words.
/// </summary>
internal static class WorkbookNotes
{
    private static readonly XNamespace Vml = "urn:schemas-microsoft-com:vml";
    private static readonly XNamespace Excel = "urn:schemas-microsoft-com:office:excel";

    /// <summary>VML elements that draw something; a drawing left with none of them is dropped with its reference.</summary>
    private static readonly HashSet<string> Drawn = ["shape", "rect", "roundrect", "oval", "line", "polyline", "arc", "curve", "image", "group"];

    public static void Remove(WorksheetPart sheet, ScrubLog log)
    {
        foreach (var drawing in sheet.VmlDrawingParts.ToList())
        {
            var vml = Read(drawing);
            var notes = vml.Descendants(Excel + "ClientData")
                .Where(data => (string?)data.Attribute("ObjectType") == "Note")
                .Select(data => data.Parent)
                .OfType<XElement>()
                .ToList();
            if (notes.Count == 0)
            {
                continue;
            }

            notes.ForEach(note => note.Remove());
            log.Remove("the boxes notes are shown in, which can hold the note's text", notes.Count);
            if (vml.Descendants().Any(element => element.Name.Namespace == Vml && Drawn.Contains(element.Name.LocalName)))
            {
                using var data = new MemoryStream();
                vml.Save(data);
                data.Position = 0;
                drawing.FeedData(data);
                continue;
            }

            var id = sheet.GetIdOfPart(drawing);
            foreach (var reference in sheet.Worksheet?.Elements<LegacyDrawing>().Where(element => element.Id?.Value == id).ToList() ?? [])
            {
                reference.Remove();
            }

            sheet.DeletePart(drawing);
        }
    }

    private static XDocument Read(VmlDrawingPart drawing)
    {
        try
        {
            using var stream = drawing.GetStream(FileMode.Open, FileAccess.Read);
            using var reader = XmlReader.Create(stream, new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null });
            return XDocument.Load(reader);
        }
        catch (XmlException e)
        {
            // Old VML is not always well-formed XML; a note box that cannot be read cannot be said to be clean.
            throw new NotCleanedException($"a sheet's drawing of notes is not readable XML ({TerminalText.Clean(e.Message, 120)})");
        }
    }
}
