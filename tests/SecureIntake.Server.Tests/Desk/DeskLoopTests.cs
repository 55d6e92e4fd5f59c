using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using SecureIntake.Server.Tests.Witness;
using SecureIntake.Testing;

namespace SecureIntake.Server.Tests.Desk;

/// <summary>The whole loop: a witness writes, an editor triages and replies, the witness reads it, the desk tool pulls it.</summary>
public sealed partial class DeskLoopTests(DeskService desk) : IClassFixture<DeskService>
{
    private static string DeskTool => Path.Combine(AppContext.BaseDirectory, "secureintake-desk.dll");

    [Fact]
    public async Task A_submission_is_triaged_answered_read_by_the_witness_and_pulled_by_the_desk_tool_to_the_exact_bytes()
    {
        var secret = await desk.AddEditorAsync("alice", admin: true);

        // The witness writes, with a file whose name tries to climb out of any folder it is saved in.
        using var witness = desk.NewWitnessBrowser();
        var document = RandomNumberGenerator.GetBytes(200_000);
        var form = WitnessForms.Multipart(await WitnessForms.TokenAsync(witness, "/ru/submit"), "Стреляли у акимата в 14:10.");
        var file = new ByteArrayContent(document);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");
        form.Add(file, "files", "../../приказ.pdf");
        using var submitted = await witness.PostAsync(new Uri("/ru/submit", UriKind.Relative), form);
        var codename = ReturnTests.CodenameIn(await submitted.Content.ReadAsStringAsync());

        // The editor signs in with password and TOTP, and finds it new in the queue.
        using var browser = await desk.SignedInBrowserAsync("alice", secret);
        var queue = await browser.GetStringAsync(new Uri("/desk?status=new", UriKind.Relative));
        var id = SubmissionLink().Match(queue).Groups[1].Value;
        Assert.NotEmpty(id);
        var page = $"/desk/submissions/{id}";

        await ExpectRedirectAsync(DeskService.PostDeskFormAsync(browser, page, $"{page}/assign", ("value", "alice")));
        await ExpectRedirectAsync(DeskService.PostDeskFormAsync(browser, page, $"{page}/tag", ("value", "Akimat"), ("op", "add")));
        await ExpectRedirectAsync(DeskService.PostDeskFormAsync(browser, page, $"{page}/status", ("value", "in-review")));
        await ExpectRedirectAsync(DeskService.PostDeskFormAsync(browser, page, $"{page}/reply", ("text", "Спасибо. Где вы стояли?")));

        var details = await browser.GetStringAsync(new Uri(page, UriKind.Relative));
        Assert.Contains("<dd id=\"status\">in-review</dd>", details, StringComparison.Ordinal);
        Assert.Contains("<dd id=\"assignee\">alice</dd>", details, StringComparison.Ordinal);
        Assert.Contains("<dd id=\"tags\">akimat</dd>", details, StringComparison.Ordinal);
        Assert.Contains("<td>alice</td><td>status: in-review</td>", details, StringComparison.Ordinal);
        Assert.Contains("<td>alice</td><td>reply #1 sent</td>", details, StringComparison.Ordinal);
        Assert.DoesNotContain("Стреляли", details, StringComparison.Ordinal); // content never reaches the desk pages
        Assert.DoesNotContain("приказ", details, StringComparison.Ordinal);
        Assert.Contains(">in-review<", await browser.GetStringAsync(new Uri("/desk?tag=akimat&assignee=alice", UriKind.Relative)), StringComparison.Ordinal);

        // The witness comes back with the codename and reads the reply.
        using var signIn = await witness.PostAsync(new Uri("/ru/return", UriKind.Relative),
            new FormUrlEncodedContent([new("token", await WitnessForms.TokenAsync(witness, "/ru/return")), new("codename", codename)]));
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        Assert.Contains("Спасибо. Где вы стояли?", await witness.GetStringAsync(new Uri("/ru/thread", UriKind.Relative)), StringComparison.Ordinal);

        // The desk tool signs in with the next code and pulls everything, decrypted on the editor's side.
        using var work = new TemporaryDirectory("si-desk-tool-");
        var session = work.File("session.json");
        (await ExternalTool.RunAsync("dotnet", [DeskTool, "login", "--server", desk.DeskAddress.ToString(), "--name", "alice", "--session", session],
            Encoding.UTF8.GetBytes($"{DeskService.Password}\n{desk.NextCode("alice", secret)}\n"))).EnsureSuccess("secureintake-desk login");
        // Deep inside the work folder, so wherever "../../" would land is a folder this test owns and searches.
        var folder = Path.Combine(work.Path, "editor", "cases", "pulled");
        var pull = (await ExternalTool.RunAsync("dotnet", [DeskTool, "pull", id, "--key", desk.Keys.SecretKey, "-o", folder, "--session", session],
            Encoding.UTF8.GetBytes("\n"))).EnsureSuccess("secureintake-desk pull");

        // First where the file must not be, then where it must.
        Assert.False(File.Exists(Path.GetFullPath(Path.Combine(folder, "../../приказ.pdf"))), "the file escaped to where its name pointed");
        Assert.Equal([Path.Combine(folder, "приказ.pdf")], Directory.GetFiles(work.Path, "*приказ*", SearchOption.AllDirectories));
        Assert.Equal(document, await File.ReadAllBytesAsync(Path.Combine(folder, "приказ.pdf")));
        var texts = Directory.GetFiles(folder, "*.txt").Select(File.ReadAllText).ToList();
        Assert.Contains("Стреляли у акимата в 14:10.", texts);
        Assert.Contains("Спасибо. Где вы стояли?", texts);
        Assert.True(pull.ExitCode == 0, pull.Error);

        var audit = await browser.GetStringAsync(new Uri("/desk/audit", UriKind.Relative));
        foreach (var action in new[] { "signed in", "viewed", "changed", "replied", "pulled archive" })
        {
            Assert.Contains($"<td>{action}</td>", audit, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_archive_download_holds_every_item_as_a_gpg_file_that_stock_gnupg_decrypts()
    {
        var secret = await desk.AddEditorAsync("archivist");
        using var witness = desk.NewWitnessBrowser();
        using var submitted = await witness.PostAsync(new Uri("/en/submit", UriKind.Relative),
            WitnessForms.Multipart(await WitnessForms.TokenAsync(witness), "for the archive"));
        Assert.Equal(HttpStatusCode.OK, submitted.StatusCode);

        using var browser = await desk.SignedInBrowserAsync("archivist", secret);
        var id = SubmissionLink().Match(await browser.GetStringAsync(new Uri("/desk?status=new", UriKind.Relative))).Groups[1].Value;
        using var archive = new ZipArchive(await browser.GetStreamAsync(new Uri($"/desk/submissions/{id}/archive.zip", UriKind.Relative)));
        using var work = new TemporaryDirectory("si-archive-");
        archive.ExtractToDirectory(work.Path);

        Assert.Contains("\"kind\": \"message\"", await File.ReadAllTextAsync(work.File("manifest.json")), StringComparison.Ordinal);
        var items = Directory.GetFiles(work.Path, "*.gpg");
        Assert.Equal(2, items.Length); // the message and the batch manifest
        var plaintexts = new List<string>();
        foreach (var item in items)
        {
            plaintexts.Add(Encoding.UTF8.GetString(await desk.Keys.DecryptAsync(item)));
        }

        Assert.Contains("for the archive", plaintexts);
    }

    private static async Task ExpectRedirectAsync(Task<HttpResponseMessage> posting)
    {
        using var response = await posting;
        Assert.True(response.StatusCode == HttpStatusCode.Redirect, await response.Content.ReadAsStringAsync());
    }

    [GeneratedRegex("/desk/submissions/([0-9a-f-]{36})")]
    private static partial Regex SubmissionLink();
}
