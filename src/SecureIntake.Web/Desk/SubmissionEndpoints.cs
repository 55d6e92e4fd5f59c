using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using SecureIntake.Core.Audit;
using SecureIntake.Core.Blobs;
using SecureIntake.Core.Editors;
using SecureIntake.Core.Grants;
using SecureIntake.Core.Intake;
using SecureIntake.Core.Recipients;
using SecureIntake.Core.Replies;
using SecureIntake.Core.Triage;
using SecureIntake.Web.Desk.Access;
using SecureIntake.Web.Pages;
using SecureIntake.Web.Pages.Desk;

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
        posts.MapAction("status", SetStatusAsync);
        posts.MapAction("assign", AssignAsync);
        posts.MapAction("priority", SetPriorityAsync);
        posts.MapAction("tag", TagAsync);
        posts.MapAction("hold", HoldAsync);
        posts.MapAction("note", AddNoteAsync);
        posts.MapAction("reply", ReplyAsync);
        posts.MapPost(Submission + "/delete", DeleteAsync);
    }

    private static async Task<HtmlPage> SubmissionAsync(Guid id, string? done, DeskUser user, TriageActions actions, TriageListing queue, EditorStore editors,
        ItemKeyPackets keyPackets, ItemReaders readers, DeskPages pages, CancellationToken cancellationToken)
    {
        if (await actions.DetailsAsync(user.Scope, id, queue, cancellationToken) is not { } details)
        {
            return NotFound(user, pages, pages.Text("NotFound_Submission"));
        }

        await actions.MarkSeenAsync(user.Editor, user.Scope, id, cancellationToken);
        // Only those who may be given it: members of its desk, and admins.
        var assignable = (await actions.AssignableAsync(user.Scope, id, cancellationToken)).ToHashSet(StringComparer.Ordinal);
        var editorList = (await editors.ListAsync(cancellationToken)).Where(e => assignable.Contains(e.Name)).ToList();
        var whoCanRead = await WhoCanReadAsync(details, keyPackets, readers, cancellationToken);
        return pages.Submission(user.Editor, user.FormToken, details, whoCanRead, editorList, QueueQuery.Blank(done));
    }

    /// <summary>
    /// The keys each item's key packets are for, named where the server knows the key. Only the front of each blob is
    /// read and nothing is decrypted; an item whose packets cannot be read is listed as such, and the page still shows.
    /// </summary>
    private static async Task<IReadOnlyList<ItemReadersView>> WhoCanReadAsync(SubmissionDetails details, ItemKeyPackets keyPackets, ItemReaders readers,
        CancellationToken cancellationToken)
    {
        var known = await readers.KnownKeysAsync(cancellationToken);
        var views = new List<ItemReadersView>(details.Items.Count);
        foreach (var item in details.Items)
        {
            var packets = await keyPackets.TryReadAsync(item, cancellationToken);
            views.Add(new ItemReadersView(item.Id, packets?.Select(p => known.Describe(p.KeyId)).ToList()));
        }

        return views;
    }

    private static async Task<IResult> DownloadItemAsync(Guid id, Guid item, DeskUser user, TriageActions actions, TriageListing queue, BlobStore blobs, AuditLog audit,
        DeskPages pages, CancellationToken cancellationToken)
    {
        var details = await actions.DetailsAsync(user.Scope, id, queue, cancellationToken);
        if (details?.Items.FirstOrDefault(i => i.Id == item) is not { } found)
        {
            return NotFound(user, pages, pages.Text("NotFound_Item"));
        }

        await audit.WriteAsync(new AuditEntry(user.Id, user.Name, "downloaded item", id, item.ToString()), cancellationToken);
        return TypedResults.Stream(blobs.OpenRead(found.BlobId), "application/pgp-encrypted", SubmissionArchive.ItemFileName(item));
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

    /// <summary>
    /// Maps one single action of the submission's page as its own route: its form passes the group's form-token check
    /// (the <see cref="DeskForm"/> is a handler parameter), <paramref name="act"/> does the one call that differs and says
    /// what was done, and the result is typed: back to the page, or the page saying why it was refused.
    /// </summary>
    private static RouteHandlerBuilder MapAction(this RouteGroupBuilder posts, string action, Func<SubmissionPost, Task<string>> act) =>
        posts.MapPost($"{Submission}/{action}", (Guid id, DeskForm form, DeskUser user, TriageActions actions, ThreadReplies replies, DeskPages pages,
            CancellationToken cancellationToken) => ActAsync(id, user, pages, () => act(new SubmissionPost(id, form, user, actions, replies, pages, cancellationToken))));

    private static async Task<string> SetStatusAsync(SubmissionPost post)
    {
        await post.Actions.SetStatusAsync(post.User.Editor, post.User.Scope, [post.Id], post.Value, post.CancellationToken);
        return post.Pages.Text("Done_Status", post.Pages.Value("Status", post.Value));
    }

    private static async Task<string> AssignAsync(SubmissionPost post)
    {
        await post.Actions.AssignAsync(post.User.Editor, post.User.Scope, [post.Id], post.Value, post.CancellationToken);
        return post.Value.Length == 0 ? post.Pages.Text("Done_Unassigned") : post.Pages.Text("Done_Assigned", post.Value);
    }

    private static async Task<string> SetPriorityAsync(SubmissionPost post)
    {
        await post.Actions.SetPriorityAsync(post.User.Editor, post.User.Scope, [post.Id], post.Value, post.CancellationToken);
        return post.Pages.Text("Done_Priority", post.Pages.Value("Priority", post.Value));
    }

    private static async Task<string> TagAsync(SubmissionPost post)
    {
        if (post.Form["op"] == "remove")
        {
            await post.Actions.RemoveTagAsync(post.User.Editor, post.User.Scope, [post.Id], post.Value, post.CancellationToken);
            return post.Pages.Text("Done_TagRemoved");
        }

        await post.Actions.AddTagAsync(post.User.Editor, post.User.Scope, [post.Id], post.Value, post.CancellationToken);
        return post.Pages.Text("Done_TagAdded");
    }

    private static async Task<string> HoldAsync(SubmissionPost post)
    {
        var on = post.Value == "on";
        await post.Actions.SetHoldAsync(post.User.Editor, post.User.Scope, post.Id, on, post.CancellationToken);
        return on ? post.Pages.Text("Done_HoldOn") : post.Pages.Text("Done_HoldOff");
    }

    private static async Task<string> AddNoteAsync(SubmissionPost post)
    {
        await post.Actions.AddNoteAsync(post.User.Editor, post.User.Scope, post.Id, post.Text, post.CancellationToken);
        return post.Pages.Text("Done_Note");
    }

    private static async Task<string> ReplyAsync(SubmissionPost post)
    {
        var number = await post.Replies.AddAsync(post.User.Scope, post.Id, post.Text, post.CancellationToken);
        await post.Actions.RecordReplyAsync(post.User.Editor, post.User.Scope, post.Id, number, post.CancellationToken);
        return post.Pages.Text("Done_Reply", number);
    }

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

    /// <summary>What a single action on a submission works with: the posted form and the request's services.</summary>
    private sealed record SubmissionPost(Guid Id, DeskForm Form, DeskUser User, TriageActions Actions, ThreadReplies Replies, DeskPages Pages,
        CancellationToken CancellationToken)
    {
        public string Value => Form["value"] ?? "";

        public string Text => Form["text"] ?? "";
    }
}
