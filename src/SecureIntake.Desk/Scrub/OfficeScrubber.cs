using System.IO.Compression;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;

namespace SecureIntake.Desk.Scrub;

/// <summary>
/// Cleans Word, Excel and PowerPoint files (the Open XML ones: .docx, .xlsx, .pptx and their kin) with the Open
/// XML SDK: document properties, comments and their authors, tracked changes (accepted: deleted text goes,
/// inserted text stays without its author), revision ids, the thumbnail, custom XML and sensitivity labels, and
/// the metadata of embedded JPEG and PNG pictures.
/// </summary>
internal static class OfficeScrubber
{
    private const string Word = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";

    // Tracked changes: deleted and moved-away content goes with its record; format-change records keep the current format.
    private static readonly HashSet<string> RevisionRemoved =
    [
        "del", "moveFrom", "moveFromRangeStart", "moveFromRangeEnd", "moveToRangeStart", "moveToRangeEnd",
        "rPrChange", "pPrChange", "sectPrChange", "tblPrChange", "tblGridChange", "trPrChange", "tcPrChange", "tblPrExChange",
        "numberingChange", "cellIns", "cellDel", "cellMerge", "customXmlDelRangeStart", "customXmlDelRangeEnd",
        "customXmlInsRangeStart", "customXmlInsRangeEnd", "customXmlMoveFromRangeStart", "customXmlMoveFromRangeEnd",
        "customXmlMoveToRangeStart", "customXmlMoveToRangeEnd",
    ];

    private static readonly HashSet<string> RevisionUnwrapped = ["ins", "moveTo"];

    private static readonly HashSet<string> CommentAnchors = ["commentRangeStart", "commentRangeEnd", "commentReference"];

    private static readonly Dictionary<string, string> WordSettings = new()
    {
        ["rsids"] = "revision ids (rsid) that tie edits to editing sessions",
        ["trackRevisions"] = "the 'track changes' switch",
        ["attachedTemplate"] = "the path of the template on the author's machine",
        ["docVars"] = "document variables",
        ["mailMerge"] = "mail-merge data source (paths, queries)",
        ["docId"] = "document ids",
    };

    public static bool Recognises(byte[] input)
    {
        if (!input.AsSpan().StartsWith("PK\x03\x04"u8))
        {
            return false;
        }

        try
        {
            using var zip = new ZipArchive(new MemoryStream(input, writable: false), ZipArchiveMode.Read);
            return zip.GetEntry("[Content_Types].xml") is not null;
        }
        catch (InvalidDataException)
        {
            return false;
        }
    }

    public static byte[] Clean(byte[] input, ScrubLog log)
    {
        var (stream, package) = Open(input);
        using (stream)
        {
            using (package)
            {
                RemoveCoreProperties(package, log);
                DropParts(package, log);
                switch (package)
                {
                    case WordprocessingDocument word:
                        CleanWord(word, log);
                        break;
                    case SpreadsheetDocument { WorkbookPart: { } workbookPart }:
                        if (workbookPart.Workbook is { } workbook)
                        {
                            RemoveAll(workbook, element => element.LocalName == "absPath", log, "the folder the workbook was saved in (absPath)");
                            RemoveAll(workbook, element => element.LocalName == "revisionPtr", log,
                                "the document id that ties copies of the workbook together (revisionPtr)");
                        }

                        foreach (var sheet in workbookPart.WorksheetParts)
                        {
                            WorkbookNotes.Remove(sheet, log);
                        }

                        break;
                    case PresentationDocument presentation:
                        foreach (var slide in presentation.PresentationPart?.SlideParts ?? [])
                        {
                            // Modern comments are tied to a slide by an extension that names their part.
                            RemoveAll(slide.Slide, element => element.LocalName == "ext" && element.Descendants().Any(d => d.LocalName == "commentRel"), log, null);
                        }

                        break;
                }

                CleanPictures(package, log);
            }

            return stream.ToArray();
        }
    }

    /// <summary>Opens the package as what its main part says it is: the SDK would open a workbook as a Word file too.</summary>
    private static (MemoryStream Stream, OpenXmlPackage Package) Open(byte[] input)
    {
        Func<Stream, OpenXmlPackage> open = OfficePackageKind.Of(input) switch
        {
            OfficeKind.Word => stream => WordprocessingDocument.Open(stream, true),
            OfficeKind.Excel => stream => SpreadsheetDocument.Open(stream, true),
            OfficeKind.PowerPoint => stream => PresentationDocument.Open(stream, true),
            _ => throw new NotCleanedException("it is a ZIP archive with Office-style parts, but its main part is not a Word, Excel or PowerPoint document"),
        };
        var stream = new MemoryStream();
        stream.Write(input);
        stream.Position = 0;
        try
        {
            return (stream, open(stream));
        }
        catch (Exception e) when (e is OpenXmlPackageException or InvalidDataException or IOException or InvalidOperationException or System.Xml.XmlException)
        {
            stream.Dispose();
            throw new NotCleanedException($"the Open XML SDK cannot open it ({TerminalText.Clean(e.Message.ReplaceLineEndings(" "), 200)})");
        }
    }

    private static void RemoveCoreProperties(OpenXmlPackage package, ScrubLog log)
    {
        var properties = package.PackageProperties;
        void Clear(string what, object? value, Action clear)
        {
            if (value is not null and not "")
            {
                log.Remove($"document properties: {what}");
                clear();
            }
        }

        Clear("author", properties.Creator, () => properties.Creator = null);
        Clear("last editor", properties.LastModifiedBy, () => properties.LastModifiedBy = null);
        Clear("title", properties.Title, () => properties.Title = null);
        Clear("subject", properties.Subject, () => properties.Subject = null);
        Clear("keywords", properties.Keywords, () => properties.Keywords = null);
        Clear("description", properties.Description, () => properties.Description = null);
        Clear("category", properties.Category, () => properties.Category = null);
        Clear("status", properties.ContentStatus, () => properties.ContentStatus = null);
        Clear("content type", properties.ContentType, () => properties.ContentType = null);
        Clear("identifier", properties.Identifier, () => properties.Identifier = null);
        Clear("language", properties.Language, () => properties.Language = null);
        Clear("version", properties.Version, () => properties.Version = null);
        Clear("revision number", properties.Revision, () => properties.Revision = null);
        Clear("dates", properties.Created, () => properties.Created = null);
        Clear("dates", properties.Modified, () => properties.Modified = null);
        Clear("dates", properties.LastPrinted, () => properties.LastPrinted = null);
    }

    private static string? Describe(OpenXmlPart part) => part switch
    {
        ExtendedFilePropertiesPart => "application properties (program, company, manager, template, editing time)",
        CustomFilePropertiesPart => "custom document properties",
        ThumbnailPart => "thumbnail picture (may show an earlier version of the first page)",
        CustomXmlPart => "custom XML data (e.g. document-management properties)",
        LabelInfoPart => "sensitivity label (names the organisation)",
        WordprocessingCommentsPart or WordprocessingCommentsExPart or WordprocessingCommentsIdsPart or WordCommentsExtensiblePart
            or WorksheetCommentsPart or WorksheetThreadedCommentsPart or SlideCommentsPart or PowerPointCommentPart => "comments",
        WordprocessingPeoplePart or WorkbookPersonPart or CommentAuthorsPart or PowerPointAuthorsPart => "names of the people who commented or edited",
        WorkbookRevisionHeaderPart or WorkbookUserDataPart => "shared-workbook change history and user names",
        // PowerPoint's list of the Office installations that edited the file; the SDK has no type for it.
        ExtendedPart { RelationshipType: var type } when type.EndsWith("/relationships/revisionInfo", StringComparison.Ordinal)
            => "revision list: ids of the Office installations that edited it, with dates",
        _ => null,
    };

    /// <summary>Every part of these kinds is deleted from each part that refers to it.</summary>
    private static void DropParts(OpenXmlPackage package, ScrubLog log)
    {
        var containers = new List<OpenXmlPartContainer> { package };
        containers.AddRange(package.GetAllParts());
        var drops = containers
            .SelectMany(container => container.Parts.Select(pair => (Container: container, pair.RelationshipId, Part: pair.OpenXmlPart)))
            .Where(entry => Describe(entry.Part) is not null)
            .ToList();
        foreach (var (container, id, part) in drops)
        {
            if (container is OpenXmlPart { OpenXmlPackage: null } || !container.Parts.Any(pair => pair.RelationshipId == id))
            {
                continue;
            }

            container.DeletePart(id);
        }

        foreach (var part in drops.Select(entry => entry.Part).Distinct())
        {
            log.Remove(Describe(part)!);
        }
    }

    private static void CleanWord(WordprocessingDocument word, ScrubLog log)
    {
        if (word.MainDocumentPart is not { } main)
        {
            return;
        }

        OpenXmlPart?[] stories = [main, .. main.HeaderParts, .. main.FooterParts, main.FootnotesPart, main.EndnotesPart, main.GlossaryDocumentPart];
        foreach (var part in stories.OfType<OpenXmlPart>())
        {
            if (part.RootElement is not { } root)
            {
                continue;
            }

            RemoveAll(root, element => element.NamespaceUri == Word && RevisionRemoved.Contains(element.LocalName), log,
                "tracked changes: deleted or moved-away text and old formatting, with their authors and dates");
            foreach (var inserted in root.Descendants().Where(element => element.NamespaceUri == Word && RevisionUnwrapped.Contains(element.LocalName)).ToList())
            {
                foreach (var child in inserted.ChildElements.ToList())
                {
                    child.Remove();
                    inserted.InsertBeforeSelf(child);
                }

                inserted.Remove();
                log.Remove("tracked changes: authors and dates of inserted text (the text is kept)");
            }

            RemoveAll(root, element => element.NamespaceUri == Word && CommentAnchors.Contains(element.LocalName), log, null);
            var rsids = 0;
            foreach (var element in root.Descendants().Prepend(root))
            {
                foreach (var attribute in element.GetAttributes().Where(a => a.NamespaceUri == Word && a.LocalName.StartsWith("rsid", StringComparison.Ordinal)))
                {
                    element.RemoveAttribute(attribute.LocalName, attribute.NamespaceUri);
                    rsids++;
                }
            }

            if (rsids > 0)
            {
                log.Remove("revision ids (rsid) that tie edits to editing sessions");
            }
        }

        if (main.DocumentSettingsPart?.Settings is { } settings)
        {
            foreach (var element in settings.ChildElements.Where(element => WordSettings.ContainsKey(element.LocalName)).ToList())
            {
                log.Remove(WordSettings[element.LocalName]);
                element.Remove();
            }
        }
    }

    /// <summary>Runs the JPEG and PNG cleaners over the pictures inside: a photo pasted into a report keeps its EXIF.</summary>
    private static void CleanPictures(OpenXmlPackage package, ScrubLog log)
    {
        var others = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var part in package.GetAllParts())
        {
            if (part is not ImagePart picture)
            {
                if (part is EmbeddedObjectPart or EmbeddedPackagePart)
                {
                    log.Note("It holds embedded objects (other documents inside it); they were not cleaned.");
                }

                continue;
            }

            byte[] bytes;
            using (var stream = picture.GetStream(FileMode.Open, FileAccess.Read))
            using (var copy = new MemoryStream())
            {
                stream.CopyTo(copy);
                bytes = copy.ToArray();
            }

            var inner = new ScrubLog();
            byte[] clean;
            try
            {
                clean = JpegScrubber.Recognises(bytes) ? JpegScrubber.Clean(bytes, inner)
                    : PngScrubber.Recognises(bytes) ? PngScrubber.Clean(bytes, inner)
                    : [];
            }
            catch (NotCleanedException)
            {
                clean = [];
            }

            if (clean.Length == 0)
            {
                others.Add(TerminalText.Clean(picture.ContentType, 60));
                continue;
            }

            if (inner.RemovedAnything)
            {
                using var cleaned = new MemoryStream(clean, writable: false);
                picture.FeedData(cleaned);
                foreach (var what in inner.Removed)
                {
                    log.Remove($"in embedded pictures: {what}");
                }
            }
        }

        if (others.Count > 0)
        {
            log.Note($"Embedded pictures of types this tool does not clean ({string.Join(", ", others)}) were left as they were; they may carry their own metadata.");
        }
    }

    private static void RemoveAll(OpenXmlElement root, Func<OpenXmlElement, bool> match, ScrubLog log, string? what)
    {
        foreach (var element in root.Descendants().Where(match).ToList())
        {
            if (element.Parent is not null)
            {
                element.Remove();
                if (what is not null)
                {
                    log.Remove(what);
                }
            }
        }
    }
}
