using System.Net;
using System.Text;
using SecureIntake.Server.Tests.Witness;

namespace SecureIntake.Server.Tests.Desk;

/// <summary>
/// What the command line does for an editor, an admin does on the admin page: move them between desks and set a new
/// password for one who lost theirs. Both posts need the admin's own form token; an admin reading Russian gets the
/// page's results, refusals and the queue's key warnings in Russian.
/// </summary>
public sealed class DeskAdminEditorsTests(DeskService desk) : IClassFixture<DeskService>
{
    private const string NewPassword = "harbour-violet-tundra-29";

    [Fact]
    public async Task An_admin_moves_an_editor_to_another_desk_on_the_page_and_the_editor_then_sees_only_the_new_desks_submissions()
    {
        (await SecureIntakeCli.RunAsync(desk.Database, "desks", "add", "investigations", "--key", desk.Keys.Usable)).EnsureSuccess("desks add");
        var general = await SubmitAsync("default", "a tip for the general desk");
        var investigation = await SubmitAsync("investigations", "a tip for the investigations desk");
        var emil = await desk.SignedInBrowserAsync("emil", await desk.AddEditorAsync("emil"));
        using var ada = await desk.SignedInBrowserAsync("ada", await desk.AddEditorAsync("ada", admin: true));
        Assert.Equal(HttpStatusCode.NotFound, (await emil.GetAsync(new Uri($"/desk/submissions/{investigation}", UriKind.Relative))).StatusCode);

        var page = await ada.GetStringAsync(new Uri("/desk/admin", UriKind.Relative));
        Assert.Contains("id=\"desks-emil\"", page, StringComparison.Ordinal);
        // The page ticks the desks emil is a member of and posts every desk it lists: unticking one leaves it.
        using (var moved = await DeskService.PostDeskFormAsync(ada, "/desk/admin", "/desk/admin/editors/desks", ("name", "emil"),
            ("listed", "default"), ("listed", "investigations"), ("member", "investigations")))
        {
            Assert.Equal(HttpStatusCode.Redirect, moved.StatusCode);
            Assert.Contains("joined investigations and left default", Uri.UnescapeDataString(moved.Headers.Location!.ToString()), StringComparison.Ordinal);
        }

        var queue = await emil.GetStringAsync(new Uri("/desk", UriKind.Relative));
        Assert.Contains($"/desk/submissions/{investigation}", queue, StringComparison.Ordinal);
        Assert.DoesNotContain(general.ToString(), queue, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await emil.GetAsync(new Uri($"/desk/submissions/{general}", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await emil.GetAsync(new Uri($"/desk/submissions/{investigation}", UriKind.Relative))).StatusCode);
        var audit = await ada.GetStringAsync(new Uri("/desk/audit", UriKind.Relative));
        Assert.Contains("desk member removed", audit, StringComparison.Ordinal);
        emil.Dispose();
    }

    [Fact]
    public async Task An_admin_sets_a_password_on_the_page_the_editors_sessions_end_and_they_are_held_at_their_account_page_until_they_choose_their_own()
    {
        var fernSecret = await desk.AddEditorAsync("fern");
        using var fern = await desk.SignedInBrowserAsync("fern", fernSecret);
        using var ben = await desk.SignedInBrowserAsync("ben", await desk.AddEditorAsync("ben", admin: true));

        using (var differ = await DeskService.PostDeskFormAsync(ben, "/desk/admin", "/desk/admin/editors/set-password", ("name", "fern"),
            ("password", NewPassword), ("repeat", NewPassword + "x")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, differ.StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await fern.GetAsync(new Uri("/desk", UriKind.Relative))).StatusCode);
        using (var set = await DeskService.PostDeskFormAsync(ben, "/desk/admin", "/desk/admin/editors/set-password", ("name", "fern"),
            ("password", NewPassword), ("repeat", NewPassword)))
        {
            Assert.Equal(HttpStatusCode.Redirect, set.StatusCode);
            Assert.DoesNotContain(NewPassword, set.Headers.Location!.ToString(), StringComparison.Ordinal);
        }

        // The admin never sees the password again: not on the page, not in the audit log.
        Assert.DoesNotContain(NewPassword, await ben.GetStringAsync(new Uri("/desk/admin", UriKind.Relative)), StringComparison.Ordinal);
        var audit = await ben.GetStringAsync(new Uri("/desk/audit", UriKind.Relative));
        Assert.Contains("editor password set by admin", audit, StringComparison.Ordinal);
        Assert.DoesNotContain(NewPassword, audit, StringComparison.Ordinal);

        using (var ended = await fern.GetAsync(new Uri("/desk", UriKind.Relative)))
        {
            Assert.Equal("/desk/sign-in", ended.Headers.Location?.ToString());
        }

        using (var old = await DeskService.SignInAsync(desk.NewDeskBrowser(), "fern", DeskService.Password, desk.NextCode("fern", fernSecret)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, old.StatusCode);
        }

        using var again = desk.NewDeskBrowser();
        using (var signIn = await DeskService.SignInAsync(again, "fern", NewPassword, desk.NextCode("fern", fernSecret)))
        {
            Assert.Equal("/desk/account", signIn.Headers.Location?.ToString());
        }

        using (var held = await again.GetAsync(new Uri("/desk", UriKind.Relative)))
        {
            Assert.Equal("/desk/account", held.Headers.Location?.ToString());
        }

        const string own = "copper-lantern-meadow-41";
        using (var changed = await DeskService.PostDeskFormAsync(again, "/desk/account", "/desk/account/password", ("current", NewPassword), ("new", own),
            ("repeat", own)))
        {
            Assert.Equal("/desk", changed.Headers.Location?.ToString());
        }

        Assert.Equal(HttpStatusCode.OK, (await again.GetAsync(new Uri("/desk", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task Moving_an_editor_or_setting_their_password_without_the_admins_own_form_token_is_refused_and_changes_nothing()
    {
        using var cleo = await desk.SignedInBrowserAsync("cleo", await desk.AddEditorAsync("cleo", admin: true));
        using var dora = await desk.SignedInBrowserAsync("dora", await desk.AddEditorAsync("dora"));
        (string Action, (string Key, string Value)[] Fields)[] posts =
        [
            ("editors/desks", [("name", "dora"), ("listed", "default")]),
            ("editors/desks", [("name", "dora"), ("leave", "default")]),
            ("editors/set-password", [("name", "dora"), ("password", NewPassword), ("repeat", NewPassword)]),
        ];
        var before = await DoraAsync();

        foreach (var (what, token) in await DeskService.WrongTokensAsync(dora))
        {
            foreach (var (action, fields) in posts)
            {
                using var response = await DeskService.PostWithTokenAsync(cleo, token, $"/desk/admin/{action}", fields);
                Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{action} with {what}: {response.StatusCode}");
            }
        }

        Assert.Equal(before, await DoraAsync());
        Assert.Equal(HttpStatusCode.OK, (await dora.GetAsync(new Uri("/desk", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task A_russian_admin_sees_a_key_refusal_and_the_queues_key_warning_with_its_reason_in_russian()
    {
        using var rustam = await desk.SignedInBrowserAsync("rustam", await desk.AddEditorAsync("rustam", admin: true));
        using (var language = await DeskService.PostDeskFormAsync(rustam, "/desk", "/desk/language", ("language", "ru")))
        {
            Assert.Equal(HttpStatusCode.Redirect, language.StatusCode);
        }

        using (var refused = await DeskService.PostDeskFormAsync(rustam, "/desk/admin", "/desk/admin/keys/remove", ("fingerprint", desk.Keys.UsableFingerprint),
            ("desk", "default")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            var page = await refused.Content.ReadAsStringAsync();
            Assert.Contains($"{desk.Keys.UsableFingerprint} — последний годный ключ получателя отдела", page, StringComparison.Ordinal);
            Assert.DoesNotContain("last usable", page, StringComparison.Ordinal);
        }

        // A key of the desk revoked since it was added: the queue warns about it.
        var (fingerprint, before, afterRevocation) = desk.Keys.LaterRevoked;
        (await SecureIntakeCli.RunAsync(desk.Database, "keys", "add", before, "--desk", "default")).EnsureSuccess("keys add");
        (await SecureIntakeCli.RunAsync(desk.Database, "keys", "add", afterRevocation, "--desk", "default")).EnsureSuccess("keys add revocation");
        var queue = await rustam.GetStringAsync(new Uri("/desk", UriKind.Relative));
        Assert.Contains($"Ключ получателя {fingerprint} отдела «default»: отклонён: ключ отозван", queue, StringComparison.Ordinal);
        Assert.DoesNotContain("Recipient key", queue, StringComparison.Ordinal);
        Assert.DoesNotContain("revoked", queue, StringComparison.Ordinal);
    }

    private Task<string> DoraAsync() => desk.ScalarAsync<string>("""
        SELECT e.password_hash || e.password_set_by_admin || coalesce((SELECT string_agg(desk_id::text, ',') FROM desk_members WHERE editor_id = e.id), '')
        FROM editors e WHERE name = 'dora'
        """);

    private async Task<Guid> SubmitAsync(string deskName, string message)
    {
        using var witness = desk.NewWitnessBrowser();
        using var form = new MultipartFormDataContent
        {
            { new StringContent(await WitnessForms.TokenAsync(witness)), "token" },
            { new StringContent(deskName), "desk" },
            { new StringContent(message, Encoding.UTF8), "message" },
        };
        using var response = await witness.PostAsync(new Uri("/en/submit", UriKind.Relative), form);
        Assert.True(response.IsSuccessStatusCode, $"submission to {deskName}: {response.StatusCode}");
        return await desk.ScalarAsync<Guid>($"SELECT s.id FROM submissions s JOIN desks d ON d.id = s.desk_id WHERE d.name = '{deskName}' ORDER BY s.received_at DESC LIMIT 1");
    }
}
