using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using SecureIntake.Web.Witness;

namespace SecureIntake.Web.Desk.Access;

/// <summary>
/// Every desk post must come from our own pages and carry the form token of the browser session that posts it:
/// a page of another site cannot compute it, even with the editor's cookie riding along. Refused posts change
/// nothing and get the desk's 403 page.
/// </summary>
internal sealed class DeskFormCheck(DeskPages pages) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var user = DeskUser.From(http);
        var form = context.Arguments.OfType<DeskForm>().SingleOrDefault();
        if (user is null || form is null || !Allows(http.Request, user, form))
        {
            return pages.Problem(user, StatusCodes.Status403Forbidden, pages.Text("Problem_Refused"), pages.Text("Problem_FormExpired"));
        }

        return await next(context);
    }

    private static bool Allows(HttpRequest request, DeskUser user, DeskForm form)
    {
        if (!form.IsReadable || !SameOriginPost.IsAllowed(request) || user.FormToken.Length == 0)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(user.FormToken), Encoding.ASCII.GetBytes(form["form"] ?? ""));
    }
}
