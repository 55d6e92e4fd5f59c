using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using SecureIntake.Server.Tests.Witness;

namespace SecureIntake.Server.Tests.Desk;

/// <summary>Desks as an access boundary: an editor of one desk meets another desk's submission nowhere.</summary>
public sealed class DeskBoundaryTests(DeskService desk) : IClassFixture<DeskService>
{
    [Fact]
    public async Task An_editor_of_one_desk_gets_404_for_another_desks_submission_everywhere_and_does_not_see_it_listed_while_an_admin_does()
    {
        (await SecureIntakeCli.RunAsync(desk.Database, "desks", "add", "investigations", "--key", desk.Keys.Usable)).EnsureSuccess("desks add");
        await SubmitAsync("default", "a tip for the general desk");
        await SubmitAsync("investigations", "a tip for the investigations desk");
        var own = await desk.ScalarAsync<Guid>("SELECT s.id FROM submissions s JOIN desks d ON d.id = s.desk_id WHERE d.name = 'default'");
        var other = await desk.ScalarAsync<Guid>("SELECT s.id FROM submissions s JOIN desks d ON d.id = s.desk_id WHERE d.name = 'investigations'");
        var ownItem = await desk.ScalarAsync<Guid>($"SELECT id FROM submission_items WHERE submission_id = '{own}' AND kind = 'message'");
        var otherItem = await desk.ScalarAsync<Guid>($"SELECT id FROM submission_items WHERE submission_id = '{other}' AND kind = 'message'");
        var secret = await desk.AddEditorAsync("ines");
        using var ines = await desk.SignedInBrowserAsync("ines", secret);

        // Her own desk's submission answers, so the 404s below are the boundary and not a broken route.
        foreach (var path in Paths(own, ownItem))
        {
            using var response = await ines.GetAsync(new Uri(path, UriKind.Relative));
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {response.StatusCode}");
        }

        foreach (var path in Paths(other, otherItem))
        {
            using var response = await ines.GetAsync(new Uri(path, UriKind.Relative));
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{path}: {response.StatusCode}");
        }

        using (var act = await DeskService.PostDeskFormAsync(ines, "/desk", $"/desk/submissions/{other}/status", ("value", "discarded")))
        {
            Assert.Equal(HttpStatusCode.NotFound, act.StatusCode);
        }

        using (var bulk = await DeskService.PostDeskFormAsync(ines, "/desk", "/desk/bulk", ("action", "status"), ("value", "discarded"), ("id", own.ToString()),
            ("id", other.ToString())))
        {
            Assert.Equal(HttpStatusCode.NotFound, bulk.StatusCode);
        }

        Assert.Equal(0L, await desk.ScalarAsync<long>("SELECT count(*) FROM submissions WHERE status <> 'new'"));
        var queue = await ines.GetStringAsync(new Uri("/desk", UriKind.Relative));
        Assert.Contains($"/desk/submissions/{own}", queue, StringComparison.Ordinal);
        Assert.DoesNotContain(other.ToString(), queue, StringComparison.Ordinal);
        Assert.DoesNotContain("investigations", queue, StringComparison.Ordinal);

        using var tool = await ToolAsync("ines", secret);
        var list = await tool.GetStringAsync(new Uri("/desk/api/submissions", UriKind.Relative));
        Assert.Contains(own.ToString(), list, StringComparison.Ordinal);
        Assert.DoesNotContain(other.ToString(), list, StringComparison.Ordinal);
        using (var pull = await tool.GetAsync(new Uri($"/desk/api/submissions/{other}/archive", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NotFound, pull.StatusCode);
        }

        using (var pull = await tool.GetAsync(new Uri($"/desk/api/submissions/{own}/archive", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, pull.StatusCode);
        }

        var adminSecret = await desk.AddEditorAsync("olga", admin: true);
        using var olga = await desk.SignedInBrowserAsync("olga", adminSecret);
        foreach (var path in Paths(other, otherItem))
        {
            using var response = await olga.GetAsync(new Uri(path, UriKind.Relative));
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {response.StatusCode}");
        }

        var everything = await olga.GetStringAsync(new Uri("/desk", UriKind.Relative));
        Assert.Contains($"/desk/submissions/{own}", everything, StringComparison.Ordinal);
        Assert.Contains($"/desk/submissions/{other}", everything, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_queue_names_as_assignees_only_the_editors_who_share_a_desk_with_the_reader()
    {
        (await SecureIntakeCli.RunAsync(desk.Database, "desks", "add", "features", "--key", desk.Keys.Usable)).EnsureSuccess("desks add");
        (await SecureIntakeCli.RunWithInputAsync(desk.Database, DeskService.Password + "\n", "editors", "add", "fedor", "--desk", "features"))
            .EnsureSuccess("editors add");
        var secret = await desk.AddEditorAsync("greta");
        await desk.AddEditorAsync("hugo", admin: true);
        using var greta = await desk.SignedInBrowserAsync("greta", secret);

        var queue = await greta.GetStringAsync(new Uri("/desk", UriKind.Relative));

        Assert.Contains("<option value=\"greta\"", queue, StringComparison.Ordinal);
        Assert.Contains("<option value=\"hugo\"", queue, StringComparison.Ordinal);
        Assert.DoesNotContain("fedor", queue, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_editor_taken_off_a_desk_loses_it_and_a_new_language_shows_on_their_very_next_request_in_the_same_session()
    {
        (await SecureIntakeCli.RunAsync(desk.Database, "desks", "add", "sports", "--key", desk.Keys.Usable)).EnsureSuccess("desks add");
        await SubmitAsync("sports", "a tip for the sports desk");
        var sports = await desk.ScalarAsync<Guid>("SELECT s.id FROM submissions s JOIN desks d ON d.id = s.desk_id WHERE d.name = 'sports'");
        var secret = await desk.AddEditorAsync("lena");
        (await SecureIntakeCli.RunAsync(desk.Database, "editors", "desks", "lena", "--join", "sports")).EnsureSuccess("editors desks --join");
        using var lena = await desk.SignedInBrowserAsync("lena", secret);
        using (var open = await lena.GetAsync(new Uri($"/desk/submissions/{sports}", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, open.StatusCode);
        }

        Assert.Contains($"/desk/submissions/{sports}", await lena.GetStringAsync(new Uri("/desk", UriKind.Relative)), StringComparison.Ordinal);

        (await SecureIntakeCli.RunAsync(desk.Database, "editors", "desks", "lena", "--leave", "sports")).EnsureSuccess("editors desks --leave");
        Assert.Equal(1L, await desk.ScalarAsync<long>("WITH changed AS (UPDATE editors SET language = 'ru' WHERE name = 'lena' RETURNING 1) SELECT count(*) FROM changed"));

        // No new sign-in: the same cookie, and what changed is already in force.
        using (var gone = await lena.GetAsync(new Uri($"/desk/submissions/{sports}", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }

        var queue = await lena.GetStringAsync(new Uri("/desk", UriKind.Relative));
        Assert.DoesNotContain($"/desk/submissions/{sports}", queue, StringComparison.Ordinal);
        Assert.Contains("<html lang=\"ru\"", queue, StringComparison.Ordinal);
    }

    private static string[] Paths(Guid submission, Guid item) =>
        [$"/desk/submissions/{submission}", $"/desk/submissions/{submission}/items/{item}.gpg", $"/desk/submissions/{submission}/archive.zip"];

    private async Task SubmitAsync(string deskName, string message)
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
    }

    private async Task<HttpClient> ToolAsync(string name, byte[] secret)
    {
        var client = new HttpClient { BaseAddress = desk.DeskAddress };
        using var signIn = await client.PostAsJsonAsync(new Uri("/desk/api/sign-in", UriKind.Relative),
            new { name, password = DeskService.Password, code = desk.NextCode(name, secret) });
        Assert.Equal(HttpStatusCode.OK, signIn.StatusCode);
        var token = (await signIn.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("token").GetString();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }
}
