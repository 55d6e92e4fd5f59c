using System.Net;
using System.Text.RegularExpressions;

namespace SecureIntake.Server.Tests.Desk;

/// <summary>What an admin does in the web desk: desks, keys and editors, with the same checks as the command line.</summary>
public sealed partial class DeskAdminTests(DeskService desk) : IClassFixture<DeskService>
{
    [Fact]
    public async Task An_admin_adds_a_desk_with_its_key_sets_its_retention_and_witnesses_can_choose_it()
    {
        var secret = await desk.AddEditorAsync("ivy", admin: true);
        using var ivy = await desk.SignedInBrowserAsync("ivy", secret);
        var key = await File.ReadAllTextAsync(desk.Keys.Second);

        using (var refused = await DeskService.PostDeskFormAsync(ivy, "/desk/admin", "/desk/admin/desks/add", ("desk", "investigations"), ("days", "60"),
            ("key", await File.ReadAllTextAsync(desk.Keys.Expired))))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains("expired", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var added = await DeskService.PostDeskFormAsync(ivy, "/desk/admin", "/desk/admin/desks/add", ("desk", "investigations"), ("days", "60"), ("key", key)))
        {
            Assert.Equal(HttpStatusCode.Redirect, added.StatusCode);
        }

        using (var retention = await DeskService.PostDeskFormAsync(ivy, "/desk/admin", "/desk/admin/desks/retention", ("desk", "investigations"), ("days", "30")))
        {
            Assert.Equal(HttpStatusCode.Redirect, retention.StatusCode);
        }

        using var witness = desk.NewWitnessBrowser();
        Assert.Contains("<option value=\"investigations\">", await witness.GetStringAsync(new Uri("/en/submit", UriKind.Relative)), StringComparison.Ordinal);
        var desks = (await SecureIntakeCli.RunAsync(desk.Database, "desks", "list")).EnsureSuccess("desks list").OutputText;
        Assert.Matches(@"investigations\s+keeps submissions 30 days", desks);
        Assert.Contains(desk.Keys.SecondFingerprint, await ivy.GetStringAsync(new Uri("/desk/admin", UriKind.Relative)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_admin_adds_an_editor_in_the_web_desk_and_sees_the_second_factor_once()
    {
        var secret = await desk.AddEditorAsync("jan", admin: true);
        using var jan = await desk.SignedInBrowserAsync("jan", secret);

        using var weak = await DeskService.PostDeskFormAsync(jan, "/desk/admin", "/desk/admin/editors/add", ("name", "kim"), ("password", "password1234"));
        Assert.Equal(HttpStatusCode.BadRequest, weak.StatusCode);

        using var added = await DeskService.PostDeskFormAsync(jan, "/desk/admin", "/desk/admin/editors/add", ("name", "kim"), ("password", DeskService.Password));
        var page = await added.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, added.StatusCode);
        Assert.Matches(SecretPattern(), page);
        Assert.Contains("otpauth://totp/", page, StringComparison.Ordinal);
        Assert.DoesNotMatch(SecretPattern(), await jan.GetStringAsync(new Uri("/desk/admin", UriKind.Relative)));
    }

    [GeneratedRegex("id=\"totp-secret\">[A-Z2-7]{32}<")]
    private static partial Regex SecretPattern();
}
