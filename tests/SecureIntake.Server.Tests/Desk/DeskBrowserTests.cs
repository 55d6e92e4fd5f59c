using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using SecureIntake.Testing;

namespace SecureIntake.Server.Tests.Desk;

/// <summary>The triage loop in real browsers with JavaScript off: a witness and an editor, each in their own.</summary>
public sealed class DeskBrowserTests(DeskService desk) : IClassFixture<DeskService>, IDisposable
{
    private readonly TemporaryDirectory _profiles = new("si-desk-browser-");

    [Fact]
    public async Task An_editor_triages_and_answers_in_the_browser_and_the_witness_reads_the_answer_in_theirs()
    {
        var secret = await desk.AddEditorAsync("hana");

        using var witness = ScriptlessBrowser.Start(_profiles);
        witness.Navigate().GoToUrl(new Uri(desk.Address, "/en/submit"));
        ScriptlessBrowser.WaitForHeading(witness, "Send a message or files");
        witness.FindElement(By.Id("message")).SendKeys("Armoured vehicles on Abay avenue at 9:40.");
        witness.FindElement(By.CssSelector("button[type=submit]")).Click();
        ScriptlessBrowser.WaitForHeading(witness, "Received");
        var codename = witness.FindElement(By.Id("your-codename")).Text;

        using var editor = ScriptlessBrowser.Start(_profiles);
        editor.Navigate().GoToUrl(new Uri(desk.DeskAddress, "/desk"));
        ScriptlessBrowser.WaitForHeading(editor, "Sign in to the desk");
        editor.FindElement(By.Id("name")).SendKeys("hana");
        editor.FindElement(By.Id("password")).SendKeys(DeskService.Password);
        editor.FindElement(By.Id("code")).SendKeys(desk.NextCode("hana", secret));
        editor.FindElement(By.CssSelector("button[type=submit]")).Click();
        ScriptlessBrowser.WaitForHeading(editor, "Queue");
        Assert.Contains("new", editor.FindElement(By.TagName("tbody")).Text, StringComparison.Ordinal);

        editor.FindElement(By.CssSelector("tbody a")).Click();
        ScriptlessBrowser.WaitForHeading(editor, "Submission received*");
        Submit(editor, "status-value", "needs-follow-up");
        Submit(editor, "assign-value", "hana");
        editor.FindElement(By.Id("tag-value")).SendKeys("abay");
        editor.FindElement(By.CssSelector("button[value=add]")).Click();
        ScriptlessBrowser.WaitForHeading(editor, "Submission received*");
        editor.FindElement(By.Id("reply")).SendKeys("Thank you. Could you see any unit markings?");
        editor.FindElement(By.XPath("//button[text()='Send reply']")).Click();
        ScriptlessBrowser.WaitForHeading(editor, "Submission received*");
        ScriptlessBrowser.Screenshot(editor, "desk-submission.png");

        Assert.Equal("needs-follow-up", editor.FindElement(By.Id("status")).Text);
        Assert.Equal("hana", editor.FindElement(By.Id("assignee")).Text);
        Assert.Equal("abay", editor.FindElement(By.Id("tags")).Text);
        Assert.Contains("Reply #1 sent", editor.FindElement(By.CssSelector("p.notice")).Text, StringComparison.Ordinal);

        witness.Navigate().GoToUrl(new Uri(desk.Address, "/en/return"));
        ScriptlessBrowser.WaitForHeading(witness, "Come back with your codename");
        witness.FindElement(By.Id("codename")).SendKeys(codename);
        witness.FindElement(By.CssSelector("button[type=submit]")).Click();
        ScriptlessBrowser.WaitForHeading(witness, "Your submission");
        Assert.Contains("Thank you. Could you see any unit markings?", witness.FindElement(By.CssSelector("article.reply")).Text, StringComparison.Ordinal);
        ScriptlessBrowser.Screenshot(witness, "thread-with-reply-en.png");
    }

    public void Dispose() => _profiles.Dispose();

    /// <summary>Picks an option in a select and presses the button of the same form.</summary>
    private static void Submit(ChromeDriver browser, string selectId, string value)
    {
        var select = browser.FindElement(By.Id(selectId));
        select.FindElement(By.CssSelector($"option[value='{value}']")).Click();
        select.FindElement(By.XPath("./ancestor::form//button")).Click();
        ScriptlessBrowser.WaitForHeading(browser, "Submission received*");
    }
}
