using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using SecureIntake.Core.Editors;

namespace SecureIntake.Server.Tests.Desk;

/// <summary>
/// An editor an admin made (so the admin typed their password and saw their authenticator's secret) gets nothing but
/// their account page until they have replaced both; after that, what the admin knew opens nothing.
/// </summary>
public sealed partial class DeskCredentialsTests(DeskService desk) : IClassFixture<DeskService>
{
    private const string OwnPassword = "lantern-quarry-eleven-gulls";

    [Fact]
    public async Task A_new_editor_is_held_at_their_account_page_until_their_own_password_and_authenticator_replace_the_admins()
    {
        var adminsSecret = await desk.AddEditorAsync("nurlan", renewed: false);
        using var nurlan = desk.NewDeskBrowser();
        using (var signIn = await DeskService.SignInAsync(nurlan, "nurlan", DeskService.Password, desk.NextCode("nurlan", adminsSecret)))
        {
            Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
            Assert.Equal("/desk/account", signIn.Headers.Location!.ToString());
        }

        foreach (var page in new[] { "/desk", $"/desk/submissions/{Guid.NewGuid()}" })
        {
            using var held = await nurlan.GetAsync(new Uri(page, UriKind.Relative));
            Assert.Equal(HttpStatusCode.Redirect, held.StatusCode);
            Assert.Equal("/desk/account", held.Headers.Location!.ToString());
        }

        using (var tool = await desk.NewDeskBrowser().PostAsJsonAsync(new Uri("/desk/api/sign-in", UriKind.Relative),
            new { name = "nurlan", password = DeskService.Password, code = desk.NextCode("nurlan", adminsSecret) }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, tool.StatusCode);
        }

        using var account = await nurlan.GetAsync(new Uri("/desk/account", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, account.StatusCode);
        Assert.Contains("id=\"renewal-due\"", await account.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // A second browser signed in with the admin's credentials loses its session when the password changes.
        using var other = desk.NewDeskBrowser();
        (await DeskService.SignInAsync(other, "nurlan", DeskService.Password, desk.NextCode("nurlan", adminsSecret))).Dispose();

        using (var mismatch = await DeskService.PostDeskFormAsync(nurlan, "/desk/account", "/desk/account/password",
            ("current", DeskService.Password), ("new", OwnPassword), ("repeat", OwnPassword + "x")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, mismatch.StatusCode);
        }

        using (var changed = await DeskService.PostDeskFormAsync(nurlan, "/desk/account", "/desk/account/password",
            ("current", DeskService.Password), ("new", OwnPassword), ("repeat", OwnPassword)))
        {
            Assert.Equal(HttpStatusCode.Redirect, changed.StatusCode);
            Assert.StartsWith("/desk/account", changed.Headers.Location!.ToString(), StringComparison.Ordinal);
        }

        using (var ended = await other.GetAsync(new Uri("/desk/account", UriKind.Relative)))
        {
            Assert.Equal("/desk/sign-in", ended.Headers.Location?.ToString());
        }

        // Still held: the authenticator is the one the admin saw.
        using (var stillHeld = await nurlan.GetAsync(new Uri("/desk", UriKind.Relative)))
        {
            Assert.Equal("/desk/account", stillHeld.Headers.Location?.ToString());
        }

        using var begun = await DeskService.PostDeskFormAsync(nurlan, "/desk/account", "/desk/account/two-factor", ("current", OwnPassword));
        Assert.Equal(HttpStatusCode.OK, begun.StatusCode);
        var ownSecret = Totp.FromBase32(NewSecretPattern().Match(await begun.Content.ReadAsStringAsync()).Groups[1].Value);

        using (var wrongCode = await DeskService.PostDeskFormAsync(nurlan, "/desk/account", "/desk/account/two-factor/confirm",
            ("code", desk.NextCode("nurlan", adminsSecret))))
        {
            Assert.Equal(HttpStatusCode.BadRequest, wrongCode.StatusCode);
        }

        using (var confirmed = await DeskService.PostDeskFormAsync(nurlan, "/desk/account", "/desk/account/two-factor/confirm",
            ("code", desk.NextCode("nurlan", ownSecret))))
        {
            Assert.Equal(HttpStatusCode.Redirect, confirmed.StatusCode);
            Assert.Equal("/desk", confirmed.Headers.Location!.ToString());
        }

        Assert.Equal(HttpStatusCode.OK, (await nurlan.GetAsync(new Uri("/desk", UriKind.Relative))).StatusCode);

        // What the admin knew opens nothing now; the editor's own credentials open the desk.
        using (var admins = await DeskService.SignInAsync(desk.NewDeskBrowser(), "nurlan", DeskService.Password, desk.NextCode("nurlan", adminsSecret)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, admins.StatusCode);
        }

        using var own = await DeskService.SignInAsync(desk.NewDeskBrowser(), "nurlan", OwnPassword, desk.NextCode("nurlan", ownSecret));
        Assert.Equal(HttpStatusCode.Redirect, own.StatusCode);
        Assert.Equal("/desk", own.Headers.Location!.ToString());
    }

    [GeneratedRegex("id=\"new-totp-secret\">([A-Z2-7]+)<")]
    private static partial Regex NewSecretPattern();
}
