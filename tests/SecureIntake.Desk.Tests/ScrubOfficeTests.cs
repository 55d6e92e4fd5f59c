using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Validation;
using SecureIntake.Testing;
using static SecureIntake.Desk.Tests.OfficeSamples;

namespace SecureIntake.Desk.Tests;

/// <summary>
/// The scrub of Excel and PowerPoint files, which the tool's help and the README say it cleans like Word files:
/// every planted string is searched in the clean copy's decompressed parts, and the copy must still be a document.
/// </summary>
public sealed class ScrubOfficeTests : IDisposable
{
    private readonly TemporaryDirectory _files = new("si-desk-scrub-office-");

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task A_workbook_loses_its_properties_save_folder_notes_threaded_comments_and_their_authors_and_keeps_its_cells()
    {
        var original = Xlsx();

        var clean = await ScrubSamples.ScrubAsync(_files, "budget.xlsx", original);

        AssertNoneLeft(original, clean, [.. Properties, SavedIn, WorkbookDocumentId, Commenter, CommentText, NoteText, ThreadAuthor, ThreadUserId, ThreadText]);
        using (var reopened = SpreadsheetDocument.Open(new MemoryStream(clean), false))
        {
            var sheet = reopened.WorkbookPart!.WorksheetParts.Single();
            Assert.Contains(CellText, sheet.Worksheet!.InnerText, StringComparison.Ordinal);
            Assert.Empty(sheet.Parts);
            Assert.Null(reopened.WorkbookPart.WorkbookPersonParts.FirstOrDefault());
        }

        AssertStillValid(original, clean, stream => SpreadsheetDocument.Open(stream, false));
        var report = await File.ReadAllTextAsync(_files.File("budget.xlsx.scrub.txt"));
        Assert.Contains("Type (by its content): Excel workbook", report, StringComparison.Ordinal);
        Assert.Contains("document properties: author", report, StringComparison.Ordinal);
        Assert.Contains("custom document properties", report, StringComparison.Ordinal);
        Assert.Contains("comments", report, StringComparison.Ordinal);
        Assert.Contains("names of the people who commented", report, StringComparison.Ordinal);
        Assert.Contains("absPath", report, StringComparison.Ordinal);
        Assert.Contains("revisionPtr", report, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_presentation_loses_its_properties_classic_and_modern_comments_and_their_authors_and_keeps_its_slide()
    {
        var original = Pptx();

        var clean = await ScrubSamples.ScrubAsync(_files, "briefing.pptx", original);

        AssertNoneLeft(original, clean, [.. Properties, EditingClientId, Commenter, CommentText, ModernAuthor, ModernUserId, ModernText, "commentRel"]);
        using (var reopened = PresentationDocument.Open(new MemoryStream(clean), false))
        {
            var slide = reopened.PresentationPart!.SlideParts.Single();
            Assert.Contains(SlideText, slide.Slide!.InnerText, StringComparison.Ordinal);
            Assert.Null(slide.SlideCommentsPart);
            Assert.DoesNotContain(slide.Parts, part => part.OpenXmlPart is PowerPointCommentPart);
            Assert.Null(reopened.PresentationPart.CommentAuthorsPart);
        }

        AssertStillValid(original, clean, stream => PresentationDocument.Open(stream, false));
        var report = await File.ReadAllTextAsync(_files.File("briefing.pptx.scrub.txt"));
        Assert.Contains("Type (by its content): PowerPoint presentation", report, StringComparison.Ordinal);
        Assert.Contains("document properties: author", report, StringComparison.Ordinal);
        Assert.Contains("application properties", report, StringComparison.Ordinal);
        Assert.Contains("names of the people who commented", report, StringComparison.Ordinal);
        Assert.Contains("Office installations that edited it", report, StringComparison.Ordinal);
    }

    /// <summary>Each planted string is in the original's parts and in none of the clean copy's, read decompressed.</summary>
    private static void AssertNoneLeft(byte[] original, byte[] clean, IEnumerable<string> planted)
    {
        var before = ScrubSamples.Unzipped(original);
        var after = ScrubSamples.Unzipped(clean);
        foreach (var value in planted)
        {
            Assert.True(before.Contains(value, StringComparison.Ordinal), $"the sample lacks {value}");
            Assert.False(after.Contains(value, StringComparison.Ordinal), $"the clean copy still holds {value}");
        }
    }

    /// <summary>The Open XML validator finds nothing wrong in the clean copy that it did not find in the original.</summary>
    private static void AssertStillValid(byte[] original, byte[] clean, Func<Stream, OpenXmlPackage> open)
    {
        static List<string> Errors(byte[] file, Func<Stream, OpenXmlPackage> open)
        {
            using var package = open(new MemoryStream(file));
            return new OpenXmlValidator().Validate(package).Select(error => $"{error.Part?.Uri} {error.Path?.XPath}: {error.Description}").ToList();
        }

        var known = Errors(original, open);
        Assert.Empty(Errors(clean, open).Except(known));
    }
}
