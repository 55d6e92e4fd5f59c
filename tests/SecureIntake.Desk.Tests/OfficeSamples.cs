using System.Text;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.CustomProperties;
using DocumentFormat.OpenXml.ExtendedProperties;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.VariantTypes;
using A = DocumentFormat.OpenXml.Drawing;
using P = DocumentFormat.OpenXml.Presentation;
using X = DocumentFormat.OpenXml.Spreadsheet;

namespace SecureIntake.Desk.Tests;

/// <summary>
/// An Excel workbook and a PowerPoint presentation a witness might send, made with the Open XML SDK, with their
/// properties, comments and the names of the people who commented planted as strings that occur nowhere else.
/// </summary>
internal static class OfficeSamples
{
    public const string Creator = "Office Creator Abenova";
    public const string Editor = "Office Editor Zhumabayev";
    public const string Title = "Office Planted Title";
    public const string Subject = "Office Planted Subject";
    public const string Keywords = "office planted keywords";
    public const string Company = "Office Planted Company JSC";
    public const string Manager = "Office Manager Seitkali";
    public const string CustomName = "WitnessSourceField";
    public const string CustomValue = "custom value naming the source desk";
    public const string SavedIn = @"C:\Users\planted.witness\Documents\";
    public const string Commenter = "Legacy Commenter Omarova";
    public const string CommentText = "comment text naming the whistleblower";
    public const string NoteText = "note text in the comment shape";
    public const string ThreadAuthor = "Threaded Author Kassymov";
    public const string ThreadUserId = "threaded.author@ministry.invalid";
    public const string ThreadText = "threaded reply about the leak";
    public const string ModernAuthor = "Modern Author Tulegenova";
    public const string ModernUserId = "modern.author@ministry.invalid";
    public const string ModernText = "modern slide comment about the meeting";
    public const string WorkbookDocumentId = "13_ncr:1_{D0C1D000-5EED-4BEE-8000-00000000C0DE}";
    public const string EditingClientId = "{C11E47A1-5EED-4BEE-8000-0000000000AB}";
    public const string CellText = "Kept cell text about the budget";
    public const string SlideText = "Kept slide text about the budget";

    public static string[] Properties => [Creator, Editor, Title, Subject, Keywords, Company, Manager, CustomName, CustomValue];

    /// <summary>A workbook with properties, the folder it was saved in, a note (legacy comment) and a threaded comment.</summary>
    public static byte[] Xlsx()
    {
        using var stream = new MemoryStream();
        using (var document = SpreadsheetDocument.Create(stream, SpreadsheetDocumentType.Workbook))
        {
            var workbookPart = document.AddWorkbookPart();
            var sheetPart = workbookPart.AddNewPart<WorksheetPart>();
            var legacyDrawing = sheetPart.AddNewPart<VmlDrawingPart>();
            Feed(legacyDrawing, NoteShape());
            sheetPart.Worksheet = new X.Worksheet(
                new X.SheetData(new X.Row(new X.Cell(new X.InlineString(new X.Text(CellText))) { CellReference = "A1", DataType = X.CellValues.InlineString }) { RowIndex = 1 }),
                new X.LegacyDrawing { Id = sheetPart.GetIdOfPart(legacyDrawing) });
            var comments = sheetPart.AddNewPart<WorksheetCommentsPart>();
            comments.Comments = new X.Comments(
                new X.Authors(new X.Author(Commenter), new X.Author("tc=" + ThreadId)),
                new X.CommentList(new X.Comment(new X.CommentText(new X.Text(CommentText))) { Reference = "A1", AuthorId = 0 }));
            var threaded = sheetPart.AddNewPart<WorksheetThreadedCommentsPart>();
            Feed(threaded, $"""
                <ThreadedComments xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments"><threadedComment ref="A1" dT="2026-11-30T12:00:00.00" personId="{PersonId}" id="{ThreadId}"><text>{ThreadText}</text></threadedComment></ThreadedComments>
                """);
            var people = workbookPart.AddNewPart<WorkbookPersonPart>();
            Feed(people, $"""
                <personList xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments" xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><person displayName="{ThreadAuthor}" id="{PersonId}" userId="{ThreadUserId}" providerId="AD"/></personList>
                """);

            var workbook = new X.Workbook(
                new AlternateContent(new AlternateContentChoice(new DocumentFormat.OpenXml.Office2013.ExcelAc.AbsolutePath { Url = SavedIn }) { Requires = "x15" }),
                RevisionPointer(),
                new X.Sheets(new X.Sheet { Name = "Budget", SheetId = 1, Id = workbookPart.GetIdOfPart(sheetPart) }));
            workbook.AddNamespaceDeclaration("mc", "http://schemas.openxmlformats.org/markup-compatibility/2006");
            workbook.AddNamespaceDeclaration("x15", "http://schemas.microsoft.com/office/spreadsheetml/2010/11/main");
            workbook.AddNamespaceDeclaration("x15ac", "http://schemas.microsoft.com/office/spreadsheetml/2010/11/ac");
            workbook.AddNamespaceDeclaration("xr", Revision);
            workbook.MCAttributes = new MarkupCompatibilityAttributes { Ignorable = "x15 x15ac xr" };
            workbookPart.Workbook = workbook;
            AddProperties(document, "Microsoft Excel");
        }

        return stream.ToArray();
    }

    /// <summary>A one-slide presentation with properties, a classic comment and a modern one, each with its author list.</summary>
    public static byte[] Pptx()
    {
        using var stream = new MemoryStream();
        using (var document = PresentationDocument.Create(stream, PresentationDocumentType.Presentation))
        {
            var presentationPart = document.AddPresentationPart();
            var slidePart = presentationPart.AddNewPart<SlidePart>();
            var layoutPart = slidePart.AddNewPart<SlideLayoutPart>();
            var masterPart = layoutPart.AddNewPart<SlideMasterPart>();
            masterPart.AddPart(layoutPart);
            presentationPart.AddPart(masterPart);
            var themePart = masterPart.AddNewPart<ThemePart>();
            presentationPart.AddPart(themePart);
            themePart.Theme = Theme();
            layoutPart.SlideLayout = new P.SlideLayout(new P.CommonSlideData(Shapes()), new P.ColorMapOverride(new A.MasterColorMapping()));
            masterPart.SlideMaster = new P.SlideMaster(
                new P.CommonSlideData(Shapes()),
                new P.ColorMap
                {
                    Background1 = A.ColorSchemeIndexValues.Light1,
                    Text1 = A.ColorSchemeIndexValues.Dark1,
                    Background2 = A.ColorSchemeIndexValues.Light2,
                    Text2 = A.ColorSchemeIndexValues.Dark2,
                    Accent1 = A.ColorSchemeIndexValues.Accent1,
                    Accent2 = A.ColorSchemeIndexValues.Accent2,
                    Accent3 = A.ColorSchemeIndexValues.Accent3,
                    Accent4 = A.ColorSchemeIndexValues.Accent4,
                    Accent5 = A.ColorSchemeIndexValues.Accent5,
                    Accent6 = A.ColorSchemeIndexValues.Accent6,
                    Hyperlink = A.ColorSchemeIndexValues.Hyperlink,
                    FollowedHyperlink = A.ColorSchemeIndexValues.FollowedHyperlink,
                },
                new P.SlideLayoutIdList(new P.SlideLayoutId { Id = 2147483649U, RelationshipId = masterPart.GetIdOfPart(layoutPart) }));

            var modern = slidePart.AddNewPart<PowerPointCommentPart>();
            Feed(modern, $"""
                <p188:cmLst xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:p188="http://schemas.microsoft.com/office/powerpoint/2018/8/main"><p188:cm id="{ModernCommentId}" authorId="{PersonId}" created="2026-11-30T12:00:00.000"><pc:sldMkLst xmlns:pc="http://schemas.microsoft.com/office/powerpoint/2013/main/command"><pc:docMk/><pc:sldMk cId="0" sldId="256"/></pc:sldMkLst><p188:txBody><a:bodyPr/><a:lstStyle/><a:p><a:r><a:rPr lang="en-US"/><a:t>{ModernText}</a:t></a:r></a:p></p188:txBody></p188:cm></p188:cmLst>
                """);
            var slide = new P.Slide(Shapes(new P.Shape(
                new P.NonVisualShapeProperties(new P.NonVisualDrawingProperties { Id = 2U, Name = "Text" }, new P.NonVisualShapeDrawingProperties(), new P.ApplicationNonVisualDrawingProperties()),
                new P.ShapeProperties(),
                new P.TextBody(new A.BodyProperties(), new A.ListStyle(), new A.Paragraph(new A.Run(new A.Text(SlideText)))))));
            var commentRel = new P.SlideExtension(new OpenXmlUnknownElement("p188", "commentRel", "http://schemas.microsoft.com/office/powerpoint/2018/8/main"))
            {
                Uri = "{6950BFC3-D8DA-4A85-94F7-54DA5524770B}",
            };
            commentRel.FirstChild!.SetAttribute(new OpenXmlAttribute("r", "id", "http://schemas.openxmlformats.org/officeDocument/2006/relationships", slidePart.GetIdOfPart(modern)));
            slide.Append(new P.ColorMapOverride(new A.MasterColorMapping()), new P.SlideExtensionList(commentRel));
            slidePart.Slide = slide;
            var classic = slidePart.AddNewPart<SlideCommentsPart>();
            classic.CommentList = new P.CommentList(new P.Comment(new P.Position { X = 10, Y = 10 }, new P.Text(CommentText))
            {
                AuthorId = 0U,
                DateTime = new DateTime(2026, 11, 30, 12, 0, 0, DateTimeKind.Utc),
                Index = 1U,
            });
            var classicAuthors = presentationPart.AddNewPart<CommentAuthorsPart>();
            classicAuthors.CommentAuthorList = new P.CommentAuthorList(new P.CommentAuthor { Id = 0U, Name = Commenter, Initials = "LO", LastIndex = 1U, ColorIndex = 0U });
            var modernAuthors = presentationPart.AddNewPart<PowerPointAuthorsPart>();
            Feed(modernAuthors, $"""
                <p188:authorLst xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:p188="http://schemas.microsoft.com/office/powerpoint/2018/8/main"><p188:author id="{PersonId}" name="{ModernAuthor}" initials="MT" userId="{ModernUserId}" providerId="AD"/></p188:authorLst>
                """);

            presentationPart.Presentation = new P.Presentation(
                new P.SlideMasterIdList(new P.SlideMasterId { Id = 2147483648U, RelationshipId = presentationPart.GetIdOfPart(masterPart) }),
                new P.SlideIdList(new P.SlideId { Id = 256U, RelationshipId = presentationPart.GetIdOfPart(slidePart) }),
                new P.SlideSize { Cx = 9144000, Cy = 6858000 },
                new P.NotesSize { Cx = 6858000, Cy = 9144000 });
            var revisions = presentationPart.AddExtendedPart("http://schemas.microsoft.com/office/2015/10/relationships/revisionInfo", "application/vnd.ms-powerpoint.revisioninfo+xml", "xml");
            Feed(revisions, $"""
                <p1510:revInfo xmlns:p1510="http://schemas.microsoft.com/office/powerpoint/2015/10/main"><p1510:revLst><p1510:client id="{EditingClientId}" v="2546" dt="2026-11-30T12:00:00.000"/></p1510:revLst></p1510:revInfo>
                """);
            AddProperties(document, "Microsoft Office PowerPoint");
        }

        return stream.ToArray();
    }

    private const string PersonId = "{5C3B2A19-0000-4000-8000-000000000003}";
    private const string ThreadId = "{6A1D2C3B-0000-4000-8000-000000000001}";
    private const string ModernCommentId = "{7B2E3D4C-0000-4000-8000-000000000002}";

    private const string Revision = "http://schemas.microsoft.com/office/spreadsheetml/2014/revision";

    /// <summary>What Excel writes after a save to OneDrive or SharePoint: a document id kept by every copy of the file.</summary>
    private static OpenXmlUnknownElement RevisionPointer()
    {
        var pointer = new OpenXmlUnknownElement("xr", "revisionPtr", Revision);
        pointer.SetAttribute(new OpenXmlAttribute("", "revIDLastSave", "", "0"));
        pointer.SetAttribute(new OpenXmlAttribute("", "documentId", "", WorkbookDocumentId));
        return pointer;
    }

    private static void AddProperties(OpenXmlPackage document, string application)
    {
        document.PackageProperties.Creator = Creator;
        document.PackageProperties.LastModifiedBy = Editor;
        document.PackageProperties.Title = Title;
        document.PackageProperties.Subject = Subject;
        document.PackageProperties.Keywords = Keywords;
        document.PackageProperties.Created = new DateTime(2026, 11, 30, 12, 0, 0, DateTimeKind.Utc);
        var extended = document switch
        {
            SpreadsheetDocument sheet => sheet.AddExtendedFilePropertiesPart(),
            PresentationDocument presentation => presentation.AddExtendedFilePropertiesPart(),
            _ => throw new ArgumentException("not a sample type", nameof(document)),
        };
        extended.Properties = new DocumentFormat.OpenXml.ExtendedProperties.Properties(new Application(application), new Company(Company), new Manager(Manager));
        var custom = document switch
        {
            SpreadsheetDocument sheet => sheet.AddCustomFilePropertiesPart(),
            PresentationDocument presentation => presentation.AddCustomFilePropertiesPart(),
            _ => throw new ArgumentException("not a sample type", nameof(document)),
        };
        custom.Properties = new DocumentFormat.OpenXml.CustomProperties.Properties(
            new CustomDocumentProperty(new VTLPWSTR(CustomValue)) { FormatId = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}", PropertyId = 2, Name = CustomName });
    }

    /// <summary>The drawing Excel keeps for a note: the box it pops up in, here with the note's text in it as some programs write it.</summary>
    private static string NoteShape() => $"""
        <xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:x="urn:schemas-microsoft-com:office:excel"><o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="1"/></o:shapelayout><v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe"><v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype><v:shape id="_x0000_s1025" type="#_x0000_t202" style="position:absolute;visibility:hidden" fillcolor="#ffffe1" o:insetmode="auto"><v:textbox><div style="text-align:left">{NoteText}</div></v:textbox><x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/><x:AutoFill>False</x:AutoFill><x:Row>0</x:Row><x:Column>0</x:Column></x:ClientData></v:shape></xml>
        """;

    private static P.CommonSlideData Shapes(params OpenXmlElement[] shapes) => new(new P.ShapeTree(
        [
            new P.NonVisualGroupShapeProperties(new P.NonVisualDrawingProperties { Id = 1U, Name = "" }, new P.NonVisualGroupShapeDrawingProperties(), new P.ApplicationNonVisualDrawingProperties()),
            new P.GroupShapeProperties(new A.TransformGroup()),
            .. shapes,
        ]));

    private static A.Theme Theme()
    {
        static A.SchemeColor Placeholder() => new() { Val = A.SchemeColorValues.PhColor };
        static A.Color2Type Color<T>(string hex) where T : A.Color2Type, new() => new T { RgbColorModelHex = new A.RgbColorModelHex { Val = hex } };
        var fills = new A.FillStyleList(new A.SolidFill(Placeholder()), new A.SolidFill(Placeholder()), new A.SolidFill(Placeholder()));
        var lines = new A.LineStyleList(
            new A.Outline(new A.SolidFill(Placeholder())) { Width = 9525 },
            new A.Outline(new A.SolidFill(Placeholder())) { Width = 25400 },
            new A.Outline(new A.SolidFill(Placeholder())) { Width = 38100 });
        var effects = new A.EffectStyleList(new A.EffectStyle(new A.EffectList()), new A.EffectStyle(new A.EffectList()), new A.EffectStyle(new A.EffectList()));
        var backgrounds = new A.BackgroundFillStyleList(new A.SolidFill(Placeholder()), new A.SolidFill(Placeholder()), new A.SolidFill(Placeholder()));
        return new A.Theme(new A.ThemeElements(
            new A.ColorScheme(
                new A.Dark1Color(new A.SystemColor { Val = A.SystemColorValues.WindowText, LastColor = "000000" }),
                new A.Light1Color(new A.SystemColor { Val = A.SystemColorValues.Window, LastColor = "FFFFFF" }),
                Color<A.Dark2Color>("1F497D"), Color<A.Light2Color>("EEECE1"), Color<A.Accent1Color>("4F81BD"), Color<A.Accent2Color>("C0504D"),
                Color<A.Accent3Color>("9BBB59"), Color<A.Accent4Color>("8064A2"), Color<A.Accent5Color>("4BACC6"), Color<A.Accent6Color>("F79646"),
                Color<A.Hyperlink>("0000FF"), Color<A.FollowedHyperlinkColor>("800080"))
            { Name = "Office" },
            new A.FontScheme(
                new A.MajorFont(new A.LatinFont { Typeface = "Calibri" }, new A.EastAsianFont { Typeface = "" }, new A.ComplexScriptFont { Typeface = "" }),
                new A.MinorFont(new A.LatinFont { Typeface = "Calibri" }, new A.EastAsianFont { Typeface = "" }, new A.ComplexScriptFont { Typeface = "" }))
            { Name = "Office" },
            new A.FormatScheme(fills, lines, effects, backgrounds) { Name = "Office" }))
        { Name = "Office Theme" };
    }

    private static void Feed(OpenXmlPart part, string xml)
    {
        using var data = new MemoryStream(Encoding.UTF8.GetBytes(xml));
        part.FeedData(data);
    }
}
