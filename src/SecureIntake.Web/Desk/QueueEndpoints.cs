using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using SecureIntake.Core.Editors;
using SecureIntake.Core.Recipients;
using SecureIntake.Core.Triage;
using SecureIntake.Web.Desk.Access;
using SecureIntake.Web.Pages;

namespace SecureIntake.Web.Desk;

/// <summary>The queue, and the actions applied to the rows an editor ticked in it.</summary>
internal static class QueueEndpoints
{
    public static void MapQueue(this RouteGroupBuilder reads, RouteGroupBuilder posts)
    {
        reads.MapGet("", QueueAsync);
        posts.MapPost("/bulk", BulkAsync);
    }

    private static async Task<HtmlPage> QueueAsync([AsParameters] QueueQuery query, DeskUser user, TriageListing queue, DeskMembership membership,
        RecipientStore recipients, DeskWarnings warnings, DeskPages pages, CancellationToken cancellationToken)
    {
        var filter = query.Filter;
        var desks = await recipients.DeskNamesAsync(user.Scope, cancellationToken);
        return pages.Queue(user.Editor, user.FormToken, await queue.ListAsync(user.Scope, filter, query.Page ?? 1, cancellationToken), filter,
            await membership.ColleaguesAsync(user.Scope, cancellationToken), desks, await warnings.ListAsync(user.Scope, desks, cancellationToken));
    }

    private static async Task<Results<RedirectHttpResult, HtmlPage>> BulkAsync(DeskForm form, DeskUser user, TriageActions actions, DeskPages pages,
        CancellationToken cancellationToken)
    {
        var ids = form.All("id").Select(v => Guid.TryParse(v, out var id) ? id : Guid.Empty).Where(id => id != Guid.Empty).ToList();
        var value = form["value"] ?? "";
        try
        {
            await (form["action"] switch
            {
                "status" => actions.SetStatusAsync(user.Editor, user.Scope, ids, value, cancellationToken),
                "assign" => actions.AssignAsync(user.Editor, user.Scope, ids, value, cancellationToken),
                "priority" => actions.SetPriorityAsync(user.Editor, user.Scope, ids, value, cancellationToken),
                "tag" => actions.AddTagAsync(user.Editor, user.Scope, ids, value, cancellationToken),
                "untag" => actions.RemoveTagAsync(user.Editor, user.Scope, ids, value, cancellationToken),
                _ => throw new TriageRefusedException(TriageRefusal.UnknownAction, "unknown bulk action"),
            });
        }
        catch (SubmissionNotFoundException)
        {
            return pages.Problem(user, StatusCodes.Status404NotFound, pages.Text("Problem_NotFound"), pages.Text("NotFound_Submission"));
        }
        catch (TriageRefusedException e)
        {
            return pages.Problem(user, StatusCodes.Status400BadRequest, pages.Text("Problem_NotDone"), pages.Refusal(e));
        }

        return TypedResults.Redirect("/desk");
    }
}
