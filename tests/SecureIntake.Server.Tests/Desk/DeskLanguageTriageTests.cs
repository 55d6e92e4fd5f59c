using System.Net;
using System.Text.RegularExpressions;

namespace SecureIntake.Server.Tests.Desk;

/// <summary>A Russian editor triaging through the real server: what Core refuses, and the submission's history, read in Russian.</summary>
public sealed partial class DeskLanguageTriageTests(DeskService desk) : IClassFixture<DeskService>
{
    [Fact]
    public async Task A_russian_editor_reads_refusals_and_the_history_in_russian_and_an_entry_from_before_still_shows()
    {
        await DeskBrowserSession.SubmitAsync(desk, "Колонна техники на проспекте Абая.");
        var id = await desk.ScalarAsync<Guid>("SELECT id FROM submissions");
        // Written as text, as the desk did before the history was stored by kind.
        await desk.ScalarAsync<string>($"INSERT INTO submission_events (submission_id, at, change) VALUES ('{id}', now(), 'status: triaged')");
        var secret = await desk.AddEditorAsync("dana");
        await desk.AddEditorAsync("pavel");
        (await SecureIntakeCli.RunAsync(desk.Database, "editors", "desks", "pavel", "--leave", "default")).EnsureSuccess("editors desks");
        using var dana = await desk.SignedInBrowserAsync("dana", secret);
        var page = $"/desk/submissions/{id}";
        using (var language = await DeskService.PostDeskFormAsync(dana, "/desk", "/desk/language", ("language", "ru")))
        {
            Assert.Equal(HttpStatusCode.Redirect, language.StatusCode);
        }

        // Pavel is on no desk: he is not offered, and giving him the submission is refused, alone or in a selection.
        Assert.DoesNotContain("value=\"pavel\"", await dana.GetStringAsync(new Uri(page, UriKind.Relative)), StringComparison.Ordinal);
        using (var assign = await DeskService.PostDeskFormAsync(dana, page, $"{page}/assign", ("value", "pavel")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, assign.StatusCode);
            Assert.Contains("pavel не состоит в отделе «default»", await TextAsync(assign), StringComparison.Ordinal);
        }

        // The page's one form with a new status and pavel: the refused assignment leaves the status as it was too.
        using (var triage = await DeskService.PostDeskFormAsync(dana, page, $"{page}/triage", ("status", "verified"), ("assignee", "pavel"), ("priority", "normal")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, triage.StatusCode);
            Assert.Contains("pavel не состоит в отделе «default»", await TextAsync(triage), StringComparison.Ordinal);
        }

        using (var bulk = await DeskService.PostDeskFormAsync(dana, "/desk", "/desk/bulk", ("action", "assign"), ("value", "pavel"), ("id", id.ToString())))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bulk.StatusCode);
            Assert.Contains("pavel не состоит в отделе «default»", await TextAsync(bulk), StringComparison.Ordinal);
        }

        using (var tag = await DeskService.PostDeskFormAsync(dana, page, $"{page}/tag", ("op", "add"), ("value", "<b>")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, tag.StatusCode);
            Assert.Contains("Метка — от 1 до 32 букв, цифр, пробелов, «-» или «_».", await TextAsync(tag), StringComparison.Ordinal);
        }

        Assert.Equal(0L, await desk.ScalarAsync<long>("SELECT count(*) FROM submissions WHERE assignee_id IS NOT NULL OR tags <> '{}' OR status <> 'new'"));

        foreach (var (action, fields) in new (string, (string, string)[])[]
        {
            ("status", [("value", "verified")]),
            ("assign", [("value", "dana")]),
            ("tag", [("op", "add"), ("value", "akimat")]),
        })
        {
            using var done = await DeskService.PostDeskFormAsync(dana, page, $"{page}/{action}", fields);
            Assert.Equal(HttpStatusCode.Redirect, done.StatusCode);
        }

        var html = WebUtility.HtmlDecode(await dana.GetStringAsync(new Uri(page, UriKind.Relative)));
        var history = html[html.IndexOf("<h2>История</h2>", StringComparison.Ordinal)..];
        var changes = ChangePattern().Matches(history).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(["status: triaged", "Статус: проверено", "Ответственный: dana", "Метка добавлена: akimat"], changes);
        // Dates as Russian writes them: day.month.year.
        Assert.Matches(@"<td class=""nowrap"">\d{2}\.\d{2}\.\d{4} \d{1,2}:\d{2}</td>", history);
    }

    private static async Task<string> TextAsync(HttpResponseMessage response) => WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());

    [GeneratedRegex(@"<tr><td class=""nowrap"">[^<]*</td><td>[^<]*</td><td>([^<]*)</td></tr>")]
    private static partial Regex ChangePattern();
}
