using System.Net;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using SecureIntake.Testing;

namespace SecureIntake.Server.Tests.Desk;

/// <summary>
/// The submission page's "who can read this": the keys in each stored item's key packets, named where the server knows
/// the key, following grants and revokes made with the desk tool, and an item whose stored file is gone or damaged said
/// to be unreadable on a page that still shows.
/// </summary>
public sealed class ItemReadersPageTests(DeskService desk) : IClassFixture<DeskService>, IDisposable
{
    private readonly GrantSteps _steps = new(desk, "si-readers-page-");

    private string DeskKey => $"<code class=\"fingerprint\">{desk.Keys.UsableFingerprint}</code> Desk Editor &lt;editor@newsroom.invalid&gt;";

    public void Dispose() => _steps.Dispose();

    [Fact]
    public async Task The_page_names_the_desk_key_for_every_item_then_shows_a_granted_key_and_no_longer_a_revoked_one()
    {
        var secret = await desk.AddEditorAsync("reader");
        var id = await _steps.SubmitAsync(RandomNumberGenerator.GetBytes(20_000));
        using var browser = await desk.SignedInBrowserAsync("reader", secret);
        var session = await _steps.LoginAsync("reader", secret);
        var items = (await _steps.ItemsAsync(browser, id, "items")).Count;
        using var lawyer = new GnuPgHome();
        var lawyerKey = await _steps.NewKeyAsync(lawyer, "<lawyer@newsroom.invalid>");
        // The server does not know the lawyer's key: only the key id its packet carries can be shown.
        var lawyerPacket = $"unknown key, key ID <code class=\"key-id\">{lawyerKey.KeyId}</code>";

        var fresh = await PageAsync(browser, id);

        Assert.Contains("<h2 id=\"readers\">Who can read this</h2>", fresh, StringComparison.Ordinal);
        Assert.Contains($"<code>secureintake-desk grant {id} --to KEY.asc --key MY-SECRET-KEY</code>", fresh, StringComparison.Ordinal);
        Assert.Contains("A revoke cannot recall copies already taken", fresh, StringComparison.Ordinal);
        Assert.True(items >= 2, $"{items} items");
        Assert.Equal(items, Count(fresh, DeskKey));
        Assert.DoesNotContain(lawyerKey.KeyId, fresh, StringComparison.Ordinal);

        (await GrantSteps.RunToolAsync("\n", "grant", id, "--to", lawyerKey.File, "--key", desk.Keys.SecretKey, "--session", session))
            .EnsureSuccess("secureintake-desk grant");
        var granted = await PageAsync(browser, id);

        Assert.Equal(items, Count(granted, DeskKey));
        Assert.Equal(items, Count(granted, lawyerPacket));

        (await GrantSteps.RunToolAsync("", "revoke", id, "--from", lawyerKey.File, "--session", session)).EnsureSuccess("secureintake-desk revoke");
        var revoked = await PageAsync(browser, id);

        Assert.Equal(items, Count(revoked, DeskKey));
        Assert.DoesNotContain(lawyerKey.KeyId, revoked, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_item_whose_stored_file_is_gone_or_damaged_is_said_to_be_unreadable_on_a_page_that_still_shows()
    {
        var secret = await desk.AddEditorAsync("vanished");
        using var browser = await desk.SignedInBrowserAsync("vanished", secret);
        var id = await _steps.SubmitAsync([4, 5, 6]);
        var blobs = await BlobsAsync(id);
        File.Delete(BlobFile(blobs[0]));
        // Same length as before, so only the key packets it should start with are wrong.
        await File.WriteAllBytesAsync(BlobFile(blobs[1]), new byte[new FileInfo(BlobFile(blobs[1])).Length]);

        using var response = await browser.GetAsync(new Uri($"/desk/submissions/{id}", UriKind.Relative));
        var page = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, Count(page, "<span class=\"error\">Its key packets could not be read: the stored file is missing or damaged"));
        Assert.Equal(blobs.Count - 2, Count(page, DeskKey));
        Assert.Contains("<h2>History</h2>", page, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ru", "Кто может это прочитать", "Отзыв не возвращает уже сделанные копии", "неизвестный ключ, ID ключа",
        "Не удалось прочитать его пакеты ключей")]
    [InlineData("kk", "Мұны кім оқи алады", "Рұқсатты қайтарып алу бұрын алынған көшірмелерді қайтармайды", "белгісіз кілт, кілт ID-і",
        "Оның кілт пакеттерін оқу мүмкін болмады")]
    public async Task An_editor_reading_the_desk_in_another_language_sees_who_can_read_in_it(string language, string heading, string warning, string unknownKey,
        string unreadable)
    {
        var name = $"reader-{language}";
        var secret = await desk.AddEditorAsync(name);
        using var browser = await desk.SignedInBrowserAsync(name, secret);
        using (var chosen = await DeskService.PostDeskFormAsync(browser, "/desk", "/desk/language", ("language", language)))
        {
            Assert.Equal(HttpStatusCode.Redirect, chosen.StatusCode);
        }

        var id = await _steps.SubmitAsync([7, 8, 9]);
        var session = await _steps.LoginAsync(name, secret);
        using var lawyer = new GnuPgHome();
        var lawyerKey = await _steps.NewKeyAsync(lawyer, "<lawyer@newsroom.invalid>");
        (await GrantSteps.RunToolAsync("\n", "grant", id, "--to", lawyerKey.File, "--key", desk.Keys.SecretKey, "--session", session))
            .EnsureSuccess("secureintake-desk grant");
        File.Delete(BlobFile((await BlobsAsync(id))[0]));

        var page = await PageAsync(browser, id);

        Assert.Contains($"<h2 id=\"readers\">{heading}</h2>", page, StringComparison.Ordinal);
        Assert.Contains(warning, page, StringComparison.Ordinal);
        Assert.Contains($"{unknownKey} <code class=\"key-id\">{lawyerKey.KeyId}</code>", page, StringComparison.Ordinal);
        Assert.Contains($"<span class=\"error\">{unreadable}", page, StringComparison.Ordinal);
        Assert.DoesNotContain("Who can read this", page, StringComparison.Ordinal);
        Assert.DoesNotContain("could not be read", page, StringComparison.Ordinal);
        Assert.DoesNotContain("unknown key", page, StringComparison.Ordinal);
    }

    private static async Task<string> PageAsync(HttpClient browser, string id) =>
        await browser.GetStringAsync(new Uri($"/desk/submissions/{id}", UriKind.Relative));

    /// <summary>The blob each item of the submission is stored in.</summary>
    private async Task<IReadOnlyList<Guid>> BlobsAsync(string id)
    {
        var list = await desk.ScalarAsync<string>(
            $"SELECT string_agg(COALESCE(blob_id, id)::text, ',' ORDER BY added_at, id) FROM submission_items WHERE submission_id = '{id}'");
        var blobs = list.Split(',').Select(Guid.Parse).ToList();
        Assert.True(blobs.Count >= 2, $"{blobs.Count} items");
        return blobs;
    }

    private string BlobFile(Guid blob) => Path.Combine(desk.BlobDirectory, blob.ToString("N"));

    private static int Count(string page, string text) => Regex.Count(page, Regex.Escape(text));
}
