using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using SecureIntake.Testing;

namespace SecureIntake.Server.Tests.Desk;

/// <summary>The pages an editor works in all day, in headless Chromium with JavaScript off, on a laptop (1280x800) and a phone (390x844).</summary>
public sealed class DeskWorkdayBrowserTests(DeskService desk) : IClassFixture<DeskService>, IDisposable
{
    private readonly TemporaryDirectory _profiles = new("si-desk-workday-");

    [Fact]
    public async Task On_a_laptop_the_first_submission_is_in_view_in_a_full_width_table_and_every_page_is_kept_at_both_sizes()
    {
        var secret = await desk.AddEditorAsync("wendy", admin: true);
        for (var i = 0; i < 3; i++)
        {
            await DeskBrowserSession.SubmitAsync(desk, $"Report {i} from the square.");
        }

        using var browser = ScriptlessBrowser.Start(_profiles);
        DeskBrowserSession.Resize(browser, DeskBrowserSession.Laptop);
        browser.Navigate().GoToUrl(new Uri(desk.DeskAddress, "/desk/sign-in"));
        ScriptlessBrowser.WaitForHeading(browser, "Sign in to the desk");
        DeskBrowserSession.ScreenshotsAtBothSizes(browser, "desk-sign-in");
        DeskBrowserSession.SignIn(browser, desk, "wendy", secret, "Queue");

        var firstRow = browser.FindElement(By.CssSelector("tbody tr"));
        Assert.True(firstRow.Location.Y + firstRow.Size.Height < DeskBrowserSession.Laptop.Height,
            $"the first row ends {firstRow.Location.Y + firstRow.Size.Height} px down, below the fold of an 800 px screen");
        var table = browser.FindElement(By.CssSelector("table.queue"));
        Assert.True(table.Size.Width > 0.9 * DeskBrowserSession.Laptop.Width, $"the queue is {table.Size.Width} px wide on a 1280 px screen");
        DeskBrowserSession.ScreenshotsAtBothSizes(browser, "desk-queue");

        browser.FindElement(By.CssSelector("tbody a")).Click();
        ScriptlessBrowser.WaitForHeading(browser, "Submission received*");
        DeskBrowserSession.ScreenshotsAtBothSizes(browser, "desk-submission");

        foreach (var (path, heading, name) in new[] { ("/desk/audit", "Audit log", "desk-audit"), ("/desk/admin", "Admin", "desk-admin"),
            ($"/desk/submissions/{Guid.NewGuid()}", "Not found", "desk-problem") })
        {
            browser.Navigate().GoToUrl(new Uri(desk.DeskAddress, path));
            ScriptlessBrowser.WaitForHeading(browser, heading);
            DeskBrowserSession.ScreenshotsAtBothSizes(browser, name);
        }

        // The one-time second-factor notice, as an admin sees it after adding an editor (a post's answer: not reloaded).
        browser.Navigate().GoToUrl(new Uri(desk.DeskAddress, "/desk/admin"));
        ScriptlessBrowser.WaitForHeading(browser, "Admin");
        browser.FindElement(By.Id("new-name")).SendKeys("newcomer");
        browser.FindElement(By.Id("new-password")).SendKeys(DeskService.Password);
        browser.FindElement(By.XPath("//form[@action='/desk/admin/editors/add']//button")).Click();
        ScriptlessBrowser.WaitForHeading(browser, "Admin");
        Assert.NotEmpty(browser.FindElement(By.Id("totp-secret")).Text);
        ScriptlessBrowser.Screenshot(browser, "desk-admin-enrolment-1280x800.png");
    }

    [Fact]
    public async Task The_triage_form_changes_status_assignee_and_priority_in_one_post()
    {
        var secret = await desk.AddEditorAsync("tomas");
        await DeskBrowserSession.SubmitAsync(desk, "Checkpoint moved to the bridge.");
        using var browser = ScriptlessBrowser.Start(_profiles);
        DeskBrowserSession.SignIn(browser, desk, "tomas", secret, "Queue");
        browser.FindElement(By.CssSelector("tbody a")).Click();
        ScriptlessBrowser.WaitForHeading(browser, "Submission received*");

        Pick(browser, "status-value", "verified");
        Pick(browser, "assign-value", "tomas");
        Pick(browser, "priority-value", "urgent");
        browser.FindElement(By.CssSelector("form.triage button")).Click();
        ScriptlessBrowser.WaitForHeading(browser, "Submission received*");

        Assert.Equal("Status set to verified. Assigned to tomas. Priority set to urgent.", browser.FindElement(By.CssSelector("p.notice")).Text);
        Assert.Equal("verified", browser.FindElement(By.Id("status")).Text);
        Assert.Equal("tomas", browser.FindElement(By.Id("assignee")).Text);
        var history = browser.FindElement(By.XPath("//h2[text()='History']/following-sibling::div[1]//tbody")).Text;
        Assert.Contains("status: verified", history, StringComparison.Ordinal);
        Assert.Contains("priority: urgent", history, StringComparison.Ordinal);

        // The empty choice of the assign control is "nobody": it unassigns.
        Pick(browser, "assign-value", "");
        browser.FindElement(By.CssSelector("form.triage button")).Click();
        ScriptlessBrowser.WaitForHeading(browser, "Submission received*");
        Assert.Equal("Unassigned.", browser.FindElement(By.CssSelector("p.notice")).Text);
        Assert.Equal("nobody", browser.FindElement(By.Id("assignee")).Text);
        Assert.Equal("verified", browser.FindElement(By.Id("status")).Text);
    }

    [Fact]
    public async Task Markup_reflected_from_the_address_is_shown_as_text_and_never_runs()
    {
        const string Hostile = "<script>document.title='owned'</script><b id=\"injected\">x</b>";
        var secret = await desk.AddEditorAsync("mira");
        await DeskBrowserSession.SubmitAsync(desk, "A message to open.");
        using var browser = ScriptlessBrowser.Start(_profiles);
        DeskBrowserSession.SignIn(browser, desk, "mira", secret, "Queue");
        var submission = browser.FindElement(By.CssSelector("tbody a")).GetAttribute("href");

        browser.Navigate().GoToUrl(new Uri($"{submission}?done={Uri.EscapeDataString(Hostile)}"));
        ScriptlessBrowser.WaitForHeading(browser, "Submission received*");
        Assert.Equal(Hostile, browser.FindElement(By.CssSelector("p.notice")).Text);
        Assert.Empty(browser.FindElements(By.Id("injected")));
        Assert.Empty(browser.FindElements(By.TagName("script")));

        browser.Navigate().GoToUrl(new Uri(desk.DeskAddress, $"/desk?tag={Uri.EscapeDataString(Hostile)}"));
        ScriptlessBrowser.WaitForHeading(browser, "Queue");
        Assert.Equal(Hostile.ToLowerInvariant(), browser.FindElement(By.Id("tag")).GetAttribute("value"));
        Assert.Empty(browser.FindElements(By.Id("injected")));
        Assert.Empty(browser.FindElements(By.TagName("script")));

        using var http = await desk.SignedInBrowserAsync("mira", secret);
        var html = await http.GetStringAsync(new Uri($"{new Uri(submission!).AbsolutePath}?done={Uri.EscapeDataString(Hostile)}", UriKind.Relative));
        Assert.Contains("&lt;script&gt;document.title=&#x27;owned&#x27;&lt;/script&gt;", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
    }

    public void Dispose() => _profiles.Dispose();

    private static void Pick(ChromeDriver browser, string selectId, string value) =>
        browser.FindElement(By.Id(selectId)).FindElement(By.CssSelector($"option[value='{value}']")).Click();
}
