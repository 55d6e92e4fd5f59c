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
using SecureIntake.Web.Pages;

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

        posts.MapPost(Submission + "/triage", TriageAsync);
        posts.MapPost(Submission + "/status", SetStatusAsync);
        posts.MapPost(Submission + "/assign", AssignAsync);
        posts.MapPost(Submission + "/priority", SetPriorityAsync);
        posts.MapPost(Submission + "/tag", TagAsync);
        posts.MapPost(Submission + "/hold", HoldAsync);
        posts.MapPost(Submission + "/note", AddNoteAsync);
        posts.MapPost(Submission + "/reply", ReplyAsync);
        posts.MapPost(Submission + "/delete", DeleteAsync);
    }

    private static async Task<HtmlPage> SubmissionAsync(Guid id, string? done, DeskUser user, TriageActions actions, TriageListing queue, EditorStore editors,
        DeskPages pages, CancellationToken cancellationToken)
    {
        if (await actions.DetailsAsync(user.Scope, id, queue, cancellationToken) is not { } details)
        {
            return NotFound(user, pages, pages.Text("NotFound_Submission"));
        }

        await actions.MarkSeenAsync(user.Editor, user.Scope, id, cancellationToken);
        // Only those who may be given it: members of its desk, and admins.
        var assignable = (await actions.AssignableAsync(user.Scope, id, cancellationToken)).ToHashSet(StringComparer.Ordinal);
        var editorList = (await editors.ListAsync(cancellationToken)).Where(e => assignable.Contains(e.Name)).ToList();
        return pages.Submission(user.Editor, user.FormToken, details, editorList, QueueQuery.Blank(done));
    }

    private static async Task<IResult> DownloadItemAsync(Guid id, Guid item, DeskUser user, TriageActions actions, TriageListing queue, BlobStore blobs, AuditLog audit,
        DeskPages pages, CancellationToken cancellationToken)
    {
        var details = await actions.DetailsAsync(user.Scope, id, queue, cancellationToken);
        if (details?.Items.Any(i => i.Id == item) != true)
        {
            return NotFound(user, pages, pages.Text("NotFound_Item"));
        }

        await audit.WriteAsync(new AuditEntry(user.Id, user.Name, "downloaded item", id, item.ToString()), cancellationToken);
        return TypedResults.Stream(blobs.OpenRead(item), "application/pgp-encrypted", SubmissionArchive.ItemFileName(item));
    }

    private static async Task<IResult> DownloadArchiveAsync(Guid id, DeskUser user, TriageActions actions, TriageListing queue, SubmissionArchive archive, AuditLog audit,
        DeskPages pages, CancellationToken cancellationToken)
    {
        if (await actions.DetailsAsync(user.Scope, id, queue, cancellationToken) is not { } details)
        {
            return NotFound(user, pages, pages.Text("NotFound_Submission"));
        }

        await audit.WriteAsync(new AuditEntry(user.Id, user.Name, "downloaded archive", id), cancellationToken);
        return ArchiveResult(details, archive, cancellationToken);
    }

    internal static IResult ArchiveResult(SubmissionDetails details, SubmissionArchive archive, CancellationToken cancellationToken) =>
        TypedResults.Stream(output => archive.WriteAsync(details, output, cancellationToken), "application/zip", $"submission-{details.Row.Id:D}.zip");

    /// <summary>
    /// The page's one triage form: status, assignee and priority posted together; only the fields that differ from the
    /// submission as it is now are applied (and audited), so an unchanged field never overwrites another editor's change.
    /// </summary>
    private static async Task<Results<RedirectHttpResult, HtmlPage>> TriageAsync(Guid id, DeskForm form, DeskUser user, TriageActions actions, TriageListing queue,
        DeskPages pages, CancellationToken cancellationToken)
    {
        if (await actions.DetailsAsync(user.Scope, id, queue, cancellationToken) is not { } details)
        {
            return NotFound(user, pages, pages.Text("NotFound_Submission"));
        }

        var row = details.Row;
        return await ActAsync(id, user, pages, async () =>
        {
            // The assignment goes first: it is the one a valid form can still have refused (an editor not on the desk), and
            // then nothing else of the form may have changed. What was done is still said in the form's order.
            string? assigned = null;
            if (form["assignee"] is { } assignee && assignee != (row.Assignee ?? ""))
            {
                await actions.AssignAsync(user.Editor, user.Scope, [id], assignee, cancellationToken);
                assigned = assignee.Length == 0 ? pages.Text("Done_Unassigned") : pages.Text("Done_Assigned", assignee);
            }

            var done = new List<string>();
            if (form["status"] is { Length: > 0 } status && status != row.Status)
            {
                await actions.SetStatusAsync(user.Editor, user.Scope, [id], status, cancellationToken);
                done.Add(pages.Text("Done_Status", pages.Value("Status", status)));
            }

            if (assigned is not null)
            {
                done.Add(assigned);
            }

            if (form["priority"] is { Length: > 0 } priority && priority != row.Priority)
            {
                await actions.SetPriorityAsync(user.Editor, user.Scope, [id], priority, cancellationToken);
                done.Add(pages.Text("Done_Priority", pages.Value("Priority", priority)));
            }

            return done.Count == 0 ? pages.Text("Done_Nothing") : string.Join(" ", done);
        });
    }

    private static Task<Results<RedirectHttpResult, HtmlPage>> SetStatusAsync(Guid id, DeskForm form, DeskUser user, TriageActions actions, DeskPages pages,
        CancellationToken cancellationToken) =>
        ActAsync(id, user, pages, async () =>
        {
            await actions.SetStatusAsync(user.Editor, user.Scope, [id], form["value"] ?? "", cancellationToken);
            return pages.Text("Done_Status", pages.Value("Status", form["value"] ?? ""));
        });

    private static Task<Results<RedirectHttpResult, HtmlPage>> AssignAsync(Guid id, DeskForm form, DeskUser user, TriageActions actions, DeskPages pages,
        CancellationToken cancellationToken) =>
        ActAsync(id, user, pages, async () =>
        {
            var assignee = form["value"] ?? "";
            await actions.AssignAsync(user.Editor, user.Scope, [id], assignee, cancellationToken);
            return assignee.Length == 0 ? pages.Text("Done_Unassigned") : pages.Text("Done_Assigned", assignee);
        });

    private static Task<Results<RedirectHttpResult, HtmlPage>> SetPriorityAsync(Guid id, DeskForm form, DeskUser user, TriageActions actions, DeskPages pages,
        CancellationToken cancellationToken) =>
        ActAsync(id, user, pages, async () =>
        {
            await actions.SetPriorityAsync(user.Editor, user.Scope, [id], form["value"] ?? "", cancellationToken);
            return pages.Text("Done_Priority", pages.Value("Priority", form["value"] ?? ""));
        });

    private static Task<Results<RedirectHttpResult, HtmlPage>> TagAsync(Guid id, DeskForm form, DeskUser user, TriageActions actions, DeskPages pages,
        CancellationToken cancellationToken) =>
        ActAsync(id, user, pages, async () =>
        {
            if (form["op"] == "remove")
            {
                await actions.RemoveTagAsync(user.Editor, user.Scope, [id], form["value"] ?? "", cancellationToken);
                return pages.Text("Done_TagRemoved");
            }

            await actions.AddTagAsync(user.Editor, user.Scope, [id], form["value"] ?? "", cancellationToken);
            return pages.Text("Done_TagAdded");
        });

    private static Task<Results<RedirectHttpResult, HtmlPage>> HoldAsync(Guid id, DeskForm form, DeskUser user, TriageActions actions, DeskPages pages,
        CancellationToken cancellationToken) =>
        ActAsync(id, user, pages, async () =>
        {
            var on = form["value"] == "on";
            await actions.SetHoldAsync(user.Editor, user.Scope, id, on, cancellationToken);
            return on ? pages.Text("Done_HoldOn") : pages.Text("Done_HoldOff");
        });

    private static Task<Results<RedirectHttpResult, HtmlPage>> AddNoteAsync(Guid id, DeskForm form, DeskUser user, TriageActions actions, DeskPages pages,
        CancellationToken cancellationToken) =>
        ActAsync(id, user, pages, async () =>
        {
            await actions.AddNoteAsync(user.Editor, user.Scope, id, form["text"] ?? "", cancellationToken);
            return pages.Text("Done_Note");
        });

    private static Task<Results<RedirectHttpResult, HtmlPage>> ReplyAsync(Guid id, DeskForm form, DeskUser user, TriageActions actions, ThreadReplies replies,
        DeskPages pages, CancellationToken cancellationToken) =>
        ActAsync(id, user, pages, async () =>
        {
            var number = await replies.AddAsync(user.Scope, id, form["text"] ?? "", cancellationToken);
            await actions.RecordReplyAsync(user.Editor, user.Scope, id, number, cancellationToken);
            return pages.Text("Done_Reply", number);
        });

    private static async Task<Results<RedirectHttpResult, HtmlPage>> DeleteAsync(Guid id, DeskForm form, DeskUser user, TriageActions actions, DeskPages pages,
        CancellationToken cancellationToken)
    {
        if (form["confirm"] != "yes")
        {
            return pages.Problem(user, StatusCodes.Status400BadRequest, pages.Text("Problem_NotDeleted"), pages.Text("Problem_ConfirmDelete"));
        }

        var refused = await ActAsync(id, user, pages, async () =>
        {
            await actions.DeleteAsync(user.Editor, user.Scope, id, "deleted by an editor", cancellationToken);
            return "";
        });
        return refused.Result is HtmlPage page ? page : TypedResults.Redirect("/desk");
    }

    /// <summary>Runs one action and goes back to the submission's page saying what was done, or shows why it was refused.</summary>
    private static async Task<Results<RedirectHttpResult, HtmlPage>> ActAsync(Guid id, DeskUser user, DeskPages pages, Func<Task<string>> action)
    {
        try
        {
            var done = await action();
            return TypedResults.Redirect($"/desk/submissions/{id}?done={Uri.EscapeDataString(done)}");
        }
        catch (SubmissionNotFoundException)
        {
            return NotFound(user, pages, pages.Text("NotFound_Submission"));
        }
        catch (Exception e) when (e is TriageRefusedException or IntakeRefusedException or UnknownDeskException)
        {
            return pages.Problem(user, StatusCodes.Status400BadRequest, pages.Text("Problem_NotDone"), pages.Refusal(e));
        }
    }

    /// <summary>
    /// Why Core refused an action, in the editor's language: Core names the refusal and its arguments, the desk's texts
    /// word it (Core's own message is English, for logs and the API).
    /// </summary>
    internal static string Refusal(this DeskPages pages, Exception refusal) => refusal switch
    {
        SubmissionNotFoundException => pages.Text("NotFound_Submission"),
        TriageRefusedException triage => pages.Text($"Refusal_{triage.Refusal}", [.. triage.Arguments]),
        IntakeRefusedException { Reason: IntakeRefusal.DeskCannotEncrypt or IntakeRefusal.NoRoom } intake => pages.Text($"Refusal_{intake.Reason}"),
        _ => refusal.Message,
    };

    private static HtmlPage NotFound(DeskUser user, DeskPages pages, string detail) =>
        pages.Problem(user, StatusCodes.Status404NotFound, pages.Text("Problem_NotFound"), detail);
}
