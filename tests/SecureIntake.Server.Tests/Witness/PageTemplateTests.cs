using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SecureIntake.Core.Replies;
using SecureIntake.Web;
using SecureIntake.Web.Pages;
using SecureIntake.Web.Witness;

namespace SecureIntake.Server.Tests.Witness;

/// <summary>The compiled witness pages, rendered as the server renders them, without a server: what they show and how.</summary>
public sealed partial class PageTemplateTests : IDisposable
{
    private const string Hostile = "Ещё вопрос: <script>alert(\"x\")</script> & 'why'";

    // Where pages are made: the witness and the desk, and the templates of both.
    private static readonly string[] PageSourceFolders = ["Witness", "Desk", "Pages"];

    private readonly ServiceProvider _services = new ServiceCollection()
        .AddSingleton<WitnessText>()
        .AddSingleton(Options.Create(new WebOptions { NewsroomName = "Vox <Populi> & \"Sons\"" }))
        .BuildServiceProvider();

    private readonly WitnessPages _pages = new(new WitnessText(), Options.Create(new IntakeLimits { MaxFiles = 3, MaxRequestBytes = 8 << 20 }));

    private static Language Russian => Language.Find("ru")!;

    [Fact]
    public async Task A_reply_with_markup_and_quotes_is_shown_as_its_text_and_never_as_markup()
    {
        var page = await RenderAsync(_pages.Thread(Russian, [new ThreadReply(1, DateTimeOffset.UnixEpoch, Hostile)], "token-value"));

        Assert.Contains("""<p class="reply-text">Ещё вопрос: &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;why&#x27;</p>""", page, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", page, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_desk_name_cannot_break_out_of_its_option_on_the_form()
    {
        var page = await RenderAsync(_pages.Form(Russian, ["general", "x\" autofocus onfocus=\"alert(1)\"><script>y</script>"], "token-value"));

        Assert.Contains("""<option value="x&quot; autofocus onfocus=&quot;alert(1)&quot;&gt;&lt;script&gt;y&lt;/script&gt;">""", page, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", page, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(" onfocus=\"", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_page_has_the_one_shell_in_its_language_with_links_to_the_others()
    {
        var kazakh = Language.Find("kk")!;
        HtmlPage[] pages =
        [
            WitnessPages.Landing(kazakh), _pages.Form(kazakh, [], "t"), WitnessPages.Received(kazakh, "a b c d e f g"), WitnessPages.Return(kazakh, false, "t"),
            _pages.Thread(kazakh, [], "t"), WitnessPages.FollowUpReceived(kazakh), _pages.Rejected(kazakh, SubmissionProblem.Empty),
        ];

        foreach (var page in pages)
        {
            var html = await RenderAsync(page);

            Assert.StartsWith("<!doctype html>\n<html lang=\"kk\">", html, StringComparison.Ordinal);
            Assert.Matches(TitlePattern(), html);
            Assert.Contains("<a href=\"/kk\">Vox &lt;Populi&gt; &amp; &quot;Sons&quot;</a><nav>", html, StringComparison.Ordinal);
            Assert.Contains("lang=\"ru\" hreflang=\"ru\">Русский</a>", html, StringComparison.Ordinal);
            Assert.Contains("lang=\"en\" hreflang=\"en\">English</a>", html, StringComparison.Ordinal);
            Assert.Single(Regex.Matches(html, "<main>"));
            Assert.DoesNotContain("style=", html, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Theory]
    [InlineData(SubmissionProblem.TooLarge, StatusCodes.Status413PayloadTooLarge, "Отправка больше 8 МБ в сумме.")]
    [InlineData(SubmissionProblem.CrossSite, StatusCodes.Status403Forbidden, null)]
    [InlineData(SubmissionProblem.TooManyFiles, StatusCodes.Status400BadRequest, "не более 3 файлов.")]
    [InlineData(SubmissionProblem.Busy, StatusCodes.Status503ServiceUnavailable, null)]
    public async Task A_refusal_page_carries_its_status_and_says_why(SubmissionProblem problem, int status, string? detail)
    {
        var page = _pages.Rejected(Russian, problem, TimeSpan.FromMinutes(2));
        var html = await RenderAsync(page);

        Assert.Equal(status, page.StatusCode);
        Assert.Equal("text/html; charset=utf-8", page.ContentType);
        Assert.Contains("<p class=\"error\">", html, StringComparison.Ordinal);
        Assert.Contains("Из этого ничего не сохранено.", html, StringComparison.Ordinal);
        if (detail is not null)
        {
            Assert.Contains(detail, html, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void No_witness_page_is_built_from_strings()
    {
        var web = Path.Combine(RepositoryRoot(), "src", "SecureIntake.Web");
        var offenders = PageSourceFolders
            .SelectMany(folder => Directory.EnumerateFiles(Path.Combine(web, folder), "*.cs", SearchOption.AllDirectories))
            .Where(file => MarkupInString().IsMatch(File.ReadAllText(file)))
            .Select(file => Path.GetRelativePath(web, file))
            .ToList();

        Assert.Empty(offenders);
    }

    public void Dispose() => _services.Dispose();

    private async Task<string> RenderAsync(HtmlPage page)
    {
        using var html = new MemoryStream();
        await page.RenderAsync(html, _services, CancellationToken.None);
        return Encoding.UTF8.GetString(html.ToArray());
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "SecureIntake.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("the tests run from inside the repository");
    }

    [GeneratedRegex("<title>[^<]+ · Vox &lt;Populi&gt; &amp; &quot;Sons&quot;</title>")]
    private static partial Regex TitlePattern();

    // A C# string literal (plain, verbatim, interpolated or raw) whose text opens with an HTML tag.
    [GeneratedRegex("""[$@]*"+\s*<[!/a-zA-Z]""")]
    private static partial Regex MarkupInString();
}
