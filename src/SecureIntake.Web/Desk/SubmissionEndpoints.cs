using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using SecureIntake.Core.Audit;
using SecureIntake.Core.Blobs;
using SecureIntake.Core.Editors;
using SecureIntake.Core.Intake;
using SecureIntake.Core.Recipients;
using SecureIntake.Core.Replies;
using SecureIntake.Core.Triage;
using SecureIntake.Web.Desk.Access;

namespace SecureIntake.Web.Desk;

/// <summary>A submission's page, each triage action on it, and its encrypted files.</summary>
internal static class SubmissionEndpoints
{
    private const string Submission = "/submissions/{id:guid}";

    public static void MapSubmissions(this RouteGroupBuilder reads, RouteGroupBuilder posts)
    {
        reads.MapGet(Submission, SubmissionAsync);
        reads.MapGet(Submission + "/items/{item:guid}.gpg", DownloadItemAsync);
        reads.MapGet(Submission + "/archive.zip", DownloadArchiveAsync);

        posts.MapPost(Submission + "/status", SetStatusAsync);
        posts.MapPost(Submission + "/assign", AssignAsync);
        posts.MapPost(Submission + "/priority", SetPriorityAsync);
        posts.MapPost(Submission + "/tag", TagAsync);
        posts.MapPost(Submission + "/hold", HoldAsync);
        posts.MapPost(Submission + "/note", AddNoteAsync);
        posts.MapPost(Submission + "/reply", ReplyAsync);
        posts.MapPost(Submission + "/delete", DeleteAsync);
    }

    private static async Task<ContentHttpResult> SubmissionAsync(Guid id, string? done, DeskUser user, TriageActions actions, TriageListing queue, EditorStore editors,
        DeskPages pages, CancellationToken cancellationToken)
    {
        if (await actions.DetailsAsync(user.Scope, id, queue, cancellationToken) is not { } details)
        {
            return NotFound(user, pages, "There is no such submission (it may have been deleted).");
        }

        await actions.MarkSeenAsync(user.Editor, user.Scope, id, cancellationToken);
        return pages.Submission(user.Editor, user.FormToken, details, await editors.ListAsync(cancellationToken), QueueQuery.Blank(done));
    }

    private static async Task<IResult> DownloadItemAsync(Guid id, Guid item, DeskUser user, TriageActions actions, TriageListing queue, BlobStore blobs, AuditLog audit,
        DeskPages pages, CancellationToken cancellationToken)
    {
        var details = await actions.DetailsAsync(user.Scope, id, queue, cancellationToken);
        if (details?.Items.Any(i => i.Id == item) != true)
        {
            return NotFound(user, pages, "There is no such item.");
        }

        await audit.WriteAsync(new AuditEntry(user.Id, user.Name, "downloaded item", id, item.ToString()), cancellationToken);
        return TypedResults.Stream(blobs.OpenRead(item), "application/pgp-encrypted", SubmissionArchive.ItemFileName(item));
    }

    private static async Task<IResult> DownloadArchiveAsync(Guid id, DeskUser user, TriageActions actions, TriageListing queue, SubmissionArchive archive, AuditLog audit,
        DeskPages pages, CancellationToken cancellationToken)
    {
        if (await actions.DetailsAsync(user.Scope, id, queue, cancellationToken) is not { } details)
        {
            return NotFound(user, pages, "There is no such submission.");
        }

        await audit.WriteAsync(new AuditEntry(user.Id, user.Name, "downloaded archive", id), cancellationToken);
        return ArchiveResult(details, archive, cancellationToken);
    }

    internal static IResult ArchiveResult(SubmissionDetails details, SubmissionArchive archive, CancellationToken cancellationToken) =>
        TypedResults.Stream(output => archive.WriteAsync(details, output, cancellationToken), "application/zip", $"submission-{details.Row.Id:D}.zip");

    private static Task<Results<RedirectHttpResult, ContentHttpResult>> SetStatusAsync(Guid id, DeskForm form, DeskUser user, TriageActions actions, DeskPages pages,
        CancellationToken cancellationToken) =>
        ActAsync(id, user, pages, async () =>
        {
            await actions.SetStatusAsync(user.Editor, user.Scope, [id], form["value"] ?? "", cancellationToken);
            return $"Status set to {form["value"]}.";
        });

    private static Task<Results<RedirectHttpResult, ContentHttpResult>> AssignAsync(Guid id, DeskForm form, DeskUser user, TriageActions actions, DeskPages pages,
        CancellationToken cancellationToken) =>
        ActAsync(id, user, pages, async () =>
        {
            var assignee = form["value"] ?? "";
            await actions.AssignAsync(user.Editor, user.Scope, [id], assignee, cancellationToken);
            return assignee.Length == 0 ? "Unassigned." : $"Assigned to {assignee}.";
        });

    private static Task<Results<RedirectHttpResult, ContentHttpResult>> SetPriorityAsync(Guid id, DeskForm form, DeskUser user, TriageActions actions, DeskPages pages,
        CancellationToken cancellationToken) =>
        ActAsync(id, user, pages, async () =>
        {
            await actions.SetPriorityAsync(user.Editor, user.Scope, [id], form["value"] ?? "", cancellationToken);
            return $"Priority set to {form["value"]}.";
        });

    private static Task<Results<RedirectHttpResult, ContentHttpResult>> TagAsync(Guid id, DeskForm form, DeskUser user, TriageActions actions, DeskPages pages,
        CancellationToken cancellationToken) =>
        ActAsync(id, user, pages, async () =>
        {
            if (form["op"] == "remove")
            {
                await actions.RemoveTagAsync(user.Editor, user.Scope, [id], form["value"] ?? "", cancellationToken);
                return "Tag removed.";
            }

            await actions.AddTagAsync(user.Editor, user.Scope, [id], form["value"] ?? "", cancellationToken);
            return "Tag added.";
        });

    private static Task<Results<RedirectHttpResult, ContentHttpResult>> HoldAsync(Guid id, DeskForm form, DeskUser user, TriageActions actions, DeskPages pages,
        CancellationToken cancellationToken) =>
        ActAsync(id, user, pages, async () =>
        {
            var on = form["value"] == "on";
            await actions.SetHoldAsync(user.Editor, user.Scope, id, on, cancellationToken);
            return on ? "Put on hold." : "Hold lifted.";
        });

    private static Task<Results<RedirectHttpResult, ContentHttpResult>> AddNoteAsync(Guid id, DeskForm form, DeskUser user, TriageActions actions, DeskPages pages,
        CancellationToken cancellationToken) =>
        ActAsync(id, user, pages, async () =>
        {
            await actions.AddNoteAsync(user.Editor, user.Scope, id, form["text"] ?? "", cancellationToken);
            return "Note added (encrypted to the desk).";
        });

    private static Task<Results<RedirectHttpResult, ContentHttpResult>> ReplyAsync(Guid id, DeskForm form, DeskUser user, TriageActions actions, ThreadReplies replies,
        DeskPages pages, CancellationToken cancellationToken) =>
        ActAsync(id, user, pages, async () =>
        {
            var number = await replies.AddAsync(user.Scope, id, form["text"] ?? "", cancellationToken);
            await actions.RecordReplyAsync(user.Editor, user.Scope, id, number, cancellationToken);
            return $"Reply #{number} sent: the witness sees it when they come back with their codename.";
        });

    private static async Task<Results<RedirectHttpResult, ContentHttpResult>> DeleteAsync(Guid id, DeskForm form, DeskUser user, TriageActions actions, DeskPages pages,
        CancellationToken cancellationToken)
    {
        if (form["confirm"] != "yes")
        {
            return pages.Problem(user, StatusCodes.Status400BadRequest, "Not deleted", "Tick the box to confirm the deletion.");
        }

        var refused = await ActAsync(id, user, pages, async () =>
        {
            await actions.DeleteAsync(user.Editor, user.Scope, id, "deleted by an editor", cancellationToken);
            return "";
        });
        return refused.Result is ContentHttpResult page ? page : TypedResults.Redirect("/desk");
    }

    /// <summary>Runs one action and goes back to the submission's page saying what was done, or shows why it was refused.</summary>
    private static async Task<Results<RedirectHttpResult, ContentHttpResult>> ActAsync(Guid id, DeskUser user, DeskPages pages, Func<Task<string>> action)
    {
        try
        {
            var done = await action();
            return TypedResults.Redirect($"/desk/submissions/{id}?done={Uri.EscapeDataString(done)}");
        }
        catch (SubmissionNotFoundException)
        {
            return NotFound(user, pages, "There is no such submission (it may have been deleted).");
        }
        catch (Exception e) when (e is TriageRefusedException or ReplyRefusedException or IntakeRefusedException or UnknownDeskException)
        {
            return pages.Problem(user, StatusCodes.Status400BadRequest, "Not done", e.Message);
        }
    }

    private static ContentHttpResult NotFound(DeskUser user, DeskPages pages, string detail) =>
        pages.Problem(user, StatusCodes.Status404NotFound, "Not found", detail);
}
