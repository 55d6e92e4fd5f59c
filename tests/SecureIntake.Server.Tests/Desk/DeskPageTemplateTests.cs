using System.Security.Claims;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SecureIntake.Contracts;
using SecureIntake.Core.Editors;
using SecureIntake.Core.Triage;
using SecureIntake.Crypto.Keys;
using SecureIntake.Web;
using SecureIntake.Web.Desk;
using SecureIntake.Web.Desk.Access;
using SecureIntake.Web.Pages;
using SecureIntake.Web.Pages.Desk;

namespace SecureIntake.Server.Tests.Desk;

/// <summary>The compiled desk pages, rendered as the server renders them, without a server: what they show, in which language, and how.</summary>
public sealed partial class DeskPageTemplateTests : IDisposable
{
    private const string Hostile = "x\" autofocus onfocus=\"alert(1)\"><script>y</script>";

    private static readonly Editor Alice = new(Guid.NewGuid(), "alice", EditorRole.Admin, Disabled: false);

    private readonly ServiceProvider _services = new ServiceCollection()
        .AddSingleton<DeskText>()
        .AddSingleton(Options.Create(new WebOptions { NewsroomName = "Vox <Populi>" }))
        .BuildServiceProvider();

    private readonly HttpContextAccessor _request = new() { HttpContext = new DefaultHttpContext() };

    private DeskPages Pages => new(Options.Create(new WebOptions { NewsroomName = "Vox <Populi>" }), new DeskText(), _request);

    [Fact]
    public async Task A_tag_or_desk_name_with_markup_is_shown_as_text_on_the_queue_and_the_submission()
    {
        var row = Row(Hostile, [Hostile]);

        var queue = await RenderAsync(Pages.Queue(Alice, "token", new QueuePage([row], 1, 1, 1), new QueueFilter(Tag: Hostile), [Alice.Name], [Hostile], [Hostile]));
        var submission = await RenderAsync(Pages.Submission(Alice, "token", new SubmissionDetails(row, [],
            [new(DateTimeOffset.UnixEpoch, Hostile, null, null, Hostile), new(DateTimeOffset.UnixEpoch, Hostile, SubmissionEvent.TagAdded, Hostile, null)], true),
            [new ItemReadersView(Guid.NewGuid(), [new KeyReader("0123456789ABCDEF", "0123456789ABCDEF0123456789ABCDEF01234567", Hostile)])],
            [Alice with { Name = Hostile }], Hostile));

        foreach (var page in new[] { queue, submission })
        {
            Assert.Contains("x&quot; autofocus onfocus=&quot;alert(1)&quot;&gt;&lt;script&gt;y&lt;/script&gt;", page, StringComparison.Ordinal);
            Assert.DoesNotContain("<script", page, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(" onfocus=\"", page, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("ru", 1, "1 сообщение")]
    [InlineData("ru", 3, "3 сообщения")]
    [InlineData("ru", 25, "25 сообщений")]
    [InlineData("ru", 1111, "1&#xA0;111 сообщений")]
    [InlineData("kk", 2, "2 хабарлама")]
    [InlineData("en", 1, "1 submission")]
    [InlineData("en", 2, "2 submissions")]
    public async Task The_queue_counts_submissions_in_the_editors_language_and_grammar(string language, long total, string expected)
    {
        SignedIn(language);

        var page = await RenderAsync(Pages.Queue(Alice, "token", new QueuePage([], 1, 1, total), new QueueFilter(), [Alice.Name], ["default"], []));

        Assert.Contains($"<p class=\"count\">{expected}</p>", page, StringComparison.Ordinal);
        Assert.StartsWith($"<!doctype html>\n<html lang=\"{language}\">", page, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("en", "more than 10,000 submissions", "Page 3 of more than 200")]
    [InlineData("ru", "более 10&#xA0;000 сообщений", "Страница 3 из более чем 200")]
    public async Task A_queue_counted_only_to_its_limit_says_more_than_and_still_offers_the_next_page(string language, string count, string paging)
    {
        SignedIn(language);

        var page = await RenderAsync(Pages.Queue(Alice, "token", new QueuePage([], 3, 200, 10_000, MoreThanTotal: true), new QueueFilter(), [Alice.Name],
            ["default"], []));

        Assert.Contains($"<p class=\"count\">{count}</p>", page, StringComparison.Ordinal);
        Assert.Contains($"<p class=\"paging\">{paging}", page, StringComparison.Ordinal);
        Assert.Contains("page=4\"", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_desk_page_has_the_one_shell_with_the_nav_the_name_and_a_sign_out_carrying_the_form_token()
    {
        SignedIn("kk");
        var row = Row("default", []);
        HtmlPage[] pages =
        [
            Pages.Queue(Alice, "tok-1", new QueuePage([row], 1, 1, 1), new QueueFilter(), [Alice.Name], ["default"], []),
            Pages.Submission(Alice, "tok-1", new SubmissionDetails(row, [], [], false), [], [Alice], null),
            Pages.Audit(Alice, "tok-1", [], 1),
            new HtmlPage(DeskAdminPage.Create(new AdminModel(Pages.Language, Alice, "tok-1", [Alice], [], [("default", 90)], null, null,
                new Dictionary<string, IReadOnlyList<string>>()))),
            Pages.Problem(Alice, "tok-1", StatusCodes.Status404NotFound, "Табылмады", "Мұндай хабарлама жоқ."),
        ];

        foreach (var page in pages)
        {
            var html = await RenderAsync(page);

            Assert.StartsWith("<!doctype html>\n<html lang=\"kk\">", html, StringComparison.Ordinal);
            Assert.Contains("<body class=\"desk\">", html, StringComparison.Ordinal);
            Assert.Contains("<a href=\"/desk\">Vox &lt;Populi&gt; редакциясы</a><nav class=\"desk-nav\"><a href=\"/desk\">Кезек</a>", html, StringComparison.Ordinal);
            Assert.Contains("<a href=\"/desk/audit\">Журнал</a><a href=\"/desk/admin\">Әкімшілік</a>", html, StringComparison.Ordinal);
            Assert.Contains("<span class=\"who\">alice</span>", html, StringComparison.Ordinal);
            Assert.Contains("<form method=\"post\" action=\"/desk/sign-out\" class=\"inline\"><input type=\"hidden\" name=\"form\" value=\"tok-1\">", html, StringComparison.Ordinal);
            Assert.Contains("<option value=\"kk\" lang=\"kk\" selected=\"selected\">Қазақша</option>", html, StringComparison.Ordinal);
            Assert.Single(Regex.Matches(html, "<main>"));
            Assert.DoesNotContain("style=", html, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task An_editor_who_is_not_an_admin_sees_no_admin_links()
    {
        var page = await RenderAsync(Pages.Audit(Alice with { Role = EditorRole.Editor }, "t", [], 1));

        Assert.Contains("<nav class=\"desk-nav\"><a href=\"/desk\">Queue</a>", page, StringComparison.Ordinal);
        Assert.DoesNotContain("/desk/admin", page, StringComparison.Ordinal);
        Assert.DoesNotContain("/desk/hangfire", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task In_the_triage_form_the_empty_assignee_means_nobody_and_the_current_values_are_selected()
    {
        var row = Row("default", []) with { Status = "verified", Priority = "high", Assignee = "bob" };

        var page = await RenderAsync(Pages.Submission(Alice, "t", new SubmissionDetails(row, [], [], true), [], [Alice, Alice with { Name = "bob" }], null));

        var form = Regex.Match(page, "<form method=\"post\" action=\"/desk/submissions/[^\"]+/triage\".*?</form>", RegexOptions.Singleline).Value;
        Assert.Contains("<option value=\"\">nobody</option>", form, StringComparison.Ordinal);
        Assert.DoesNotContain(">any<", form, StringComparison.Ordinal);
        Assert.Contains("<option value=\"verified\" selected=\"selected\">", form, StringComparison.Ordinal);
        Assert.Contains("<option value=\"bob\" selected=\"selected\">", form, StringComparison.Ordinal);
        Assert.Contains("<option value=\"high\" selected=\"selected\">", form, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, null, "en")]
    [InlineData(null, "ru-RU,ru;q=0.9,en;q=0.5", "ru")]
    [InlineData(null, "de-DE, kk;q=0.8, ru;q=0.5", "kk")]
    [InlineData(null, "de-DE", "en")]
    [InlineData("kk", "ru-RU", "kk")]
    public async Task The_sign_in_page_follows_a_lang_link_then_the_browsers_languages(string? lang, string? acceptLanguage, string expected)
    {
        var request = _request.HttpContext!.Request;
        request.QueryString = lang is null ? QueryString.Empty : QueryString.Create("lang", lang);
        request.Headers.AcceptLanguage = acceptLanguage;

        var page = await RenderAsync(Pages.SignIn("token", null));

        Assert.StartsWith($"<!doctype html>\n<html lang=\"{expected}\">", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dates_are_written_in_utc_the_way_the_editors_culture_writes_them()
    {
        SignedIn("ru");
        var row = Row("default", []) with { ReceivedAt = new DateTimeOffset(2026, 3, 9, 22, 5, 0, TimeSpan.FromHours(5)) };

        var page = await RenderAsync(Pages.Submission(Alice, "t", new SubmissionDetails(row, [], [], true), [], [Alice], null));

        Assert.Contains("<h1>Сообщение получено 09.03.2026 17:05 UTC</h1>", page, StringComparison.Ordinal);
    }

    public void Dispose() => _services.Dispose();

    private static QueueRow Row(string desk, IReadOnlyList<string> tags) =>
        new(Guid.NewGuid(), desk, "web", DateTimeOffset.UnixEpoch, "new", null, "normal", tags, 2, "< 1 MB", WitnessWroteSinceSeen: false, OnHold: false);

    private void SignedIn(string language) =>
        _request.HttpContext!.User = new ClaimsPrincipal(new ClaimsIdentity([new Claim(DeskLanguage.Claim, language)], DeskSchemes.Browser));

    private async Task<string> RenderAsync(HtmlPage page)
    {
        using var html = new MemoryStream();
        await page.RenderAsync(html, _services, CancellationToken.None);
        return Encoding.UTF8.GetString(html.ToArray());
    }
}
