using OpenQA.Selenium;
using SecureIntake.Testing;

namespace SecureIntake.Server.Tests.Desk;

/// <summary>A Russian and a Kazakh editor at work, in headless Chromium with JavaScript off: every desk page in their own language.</summary>
public sealed class DeskLanguageBrowserTests(DeskService desk) : IClassFixture<DeskService>, IAsyncLifetime, IDisposable
{
    private readonly TemporaryDirectory _profiles = new("si-desk-language-");

    public async Task InitializeAsync()
    {
        // Two per case, so the queue holds 2 or 4 whichever case runs first: both take the same plural form (сообщения, хабарлама).
        await DeskBrowserSession.SubmitAsync(desk, "Колонна техники на проспекте Абая.");
        await DeskBrowserSession.SubmitAsync(desk, "Ещё одна колонна у вокзала.");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Theory]
    [InlineData("dana", "ru", "Вход в редакцию", "Очередь", "сообщения", "Сообщение получено ", "новое", "Материалы", "Отправить ответ")]
    [InlineData("erlan", "kk", "Редакцияға кіру", "Кезек", "хабарлама", "Хабарлама ", "жаңа", "Материалдар", "Жауап жіберу")]
    public async Task An_editor_who_picks_their_language_gets_the_queue_and_a_submission_in_it(string name, string code, string signIn, string queue, string submissions,
        string submissionHeading, string status, string items, string reply)
    {
        var secret = await desk.AddEditorAsync(name);
        using var browser = ScriptlessBrowser.Start(_profiles);
        DeskBrowserSession.Resize(browser, DeskBrowserSession.Laptop);

        // Before sign-in a link picks the language; after it, the editor's own choice does.
        DeskBrowserSession.SignIn(browser, desk, name, secret, "Queue", $"/desk/sign-in?lang={code}", signIn);
        DeskBrowserSession.ChooseLanguage(browser, code, queue);

        Assert.Equal(code, browser.FindElement(By.TagName("html")).GetAttribute("lang"));
        var total = await desk.ScalarAsync<long>("SELECT count(*) FROM submissions");
        Assert.Equal($"{total} {submissions}", browser.FindElement(By.CssSelector("p.count")).Text);
        Assert.Contains(status, browser.FindElement(By.CssSelector("tbody tr")).Text, StringComparison.Ordinal);
        DeskBrowserSession.ScreenshotsAtBothSizes(browser, $"desk-queue-{code}");

        browser.FindElement(By.CssSelector("tbody a")).Click();
        ScriptlessBrowser.WaitForHeading(browser, submissionHeading + "*");
        Assert.Contains(" UTC", browser.FindElement(By.TagName("h1")).Text, StringComparison.Ordinal);
        Assert.Equal(status, browser.FindElement(By.Id("status")).Text);
        Assert.Contains(items, browser.FindElements(By.TagName("h2")).Select(h => h.Text));
        Assert.Equal(reply, browser.FindElement(By.CssSelector("form[action$='/reply'] button")).Text);
        DeskBrowserSession.ScreenshotsAtBothSizes(browser, $"desk-submission-{code}");

        // The choice is the editor's: stored, not a property of this browser.
        Assert.Equal(code, await desk.ScalarAsync<string>($"SELECT language FROM editors WHERE name = '{name}'"));
    }

    public void Dispose() => _profiles.Dispose();
}
