using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using SecureIntake.Core.Editors;
using SecureIntake.Web.Desk.Access;
using SecureIntake.Web.Pages;

namespace SecureIntake.Web.Desk;

/// <summary>What an editor sets for themselves: the language of their desk pages.</summary>
internal static class AccountEndpoints
{
    public static void MapAccount(this RouteGroupBuilder posts) => posts.MapPost("/language", SetLanguageAsync);

    /// <summary>Stores the editor's choice and goes to the queue, now in that language (the pages send no Referer to go back by).</summary>
    private static async Task<Results<RedirectHttpResult, HtmlPage>> SetLanguageAsync(DeskForm form, DeskUser user, EditorLanguage languages, DeskPages pages,
        CancellationToken cancellationToken)
    {
        try
        {
            await languages.SetAsync(user.Id, form["language"] ?? "", cancellationToken);
        }
        catch (EditorRefusedException e)
        {
            return pages.Problem(user, StatusCodes.Status400BadRequest, pages.Text("Problem_NotDone"), e.Message);
        }

        return TypedResults.Redirect("/desk");
    }
}
