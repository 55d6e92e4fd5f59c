using System.Net;

namespace SecureIntake.Server.Tests.Desk;

/// <summary>The queue's warnings about failing components and quarantined mail, in the editor's language.</summary>
public sealed class DeskWarningsLanguageTests(DeskService desk) : IClassFixture<DeskService>
{
    [Fact]
    public async Task A_kazakh_editor_reads_a_failing_gateway_and_quarantined_mail_in_kazakh_with_the_gateways_own_words_inside()
    {
        await desk.ScalarAsync<int>("""
            INSERT INTO service_status (component, failed_at, failure, failures_in_a_row, retry_after, quarantined, quarantined_at)
            VALUES ('mail-gateway', now(), 'SocketException: Connection refused', 3, now() + interval '10 minutes', 2, now())
            RETURNING 1
            """);
        var secret = await desk.AddEditorAsync("aigerim");
        using var editor = await desk.SignedInBrowserAsync("aigerim", secret);
        using (var language = await DeskService.PostDeskFormAsync(editor, "/desk", "/desk/language", ("language", "kk")))
        {
            Assert.Equal(HttpStatusCode.Redirect, language.StatusCode);
        }

        var queue = WebUtility.HtmlDecode(await editor.GetStringAsync(new Uri("/desk", UriKind.Relative)));

        Assert.Contains("mail-gateway: ", queue, StringComparison.Ordinal);
        Assert.Contains("(SocketException: Connection refused); қатарынан ақаулар: 3;", queue, StringComparison.Ordinal);
        Assert.Contains("Осы уақытта ештеңе жоғалмайды.", queue, StringComparison.Ordinal);
        Assert.Contains("өлшем шегінен асқан хаттар: 2", queue, StringComparison.Ordinal);
        Assert.DoesNotContain("failing since", queue, StringComparison.Ordinal);
        Assert.DoesNotContain("over the size limit", queue, StringComparison.Ordinal);
    }
}
