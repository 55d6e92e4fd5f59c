using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using SecureIntake.Testing;

namespace SecureIntake.Server.Tests.Witness;

/// <summary>The witness's path in a real browser with JavaScript switched off, as on Tor Browser's "Safest" level.</summary>
public sealed class BrowserTests(WitnessService service) : IClassFixture<WitnessService>, IDisposable
{
    private readonly TemporaryDirectory _files = new("si-browser-");

    [Fact]
    public void A_witness_without_javascript_sends_a_message_and_a_file_in_russian()
    {
        var evidence = _files.File("протокол.pdf");
        var content = new byte[150_000];
        Random.Shared.NextBytes(content);
        File.WriteAllBytes(evidence, content);
        var blobsBefore = Directory.GetFiles(service.BlobDirectory).ToHashSet();

        using var browser = StartBrowser();
        browser.Navigate().GoToUrl(new Uri(service.Client.BaseAddress!, "/ru"));
        browser.FindElement(By.LinkText("Отправить сообщение или файлы")).Click();
        WaitForHeading(browser, "Отправить сообщение или файлы");
        browser.FindElement(By.Id("message")).SendKeys("Видел колонну техники на проспекте.");
        browser.FindElement(By.Id("files")).SendKeys(evidence);
        browser.FindElement(By.CssSelector("button[type=submit]")).Click();

        WaitForHeading(browser, "Получено");
        Screenshot(browser, "received-ru.png");
        var codename = browser.FindElement(By.Id("your-codename")).Text;
        Assert.Equal(7, codename.Split(' ').Length);
        var newBlobs = Directory.GetFiles(service.BlobDirectory).Where(f => !blobsBefore.Contains(f)).ToList();
        Assert.Equal(3, newBlobs.Count); // message, file, manifest
        var plaintexts = newBlobs.Select(b => service.Keys.DecryptAsync(b).GetAwaiter().GetResult()).ToList();
        Assert.Contains(plaintexts, p => p.AsSpan().SequenceEqual(content));

        // Coming back later with the codename, still without JavaScript.
        browser.FindElement(By.LinkText("У меня есть кодовое имя")).Click();
        WaitForHeading(browser, "Вернуться по кодовому имени");
        browser.FindElement(By.Id("codename")).SendKeys(codename);
        browser.FindElement(By.CssSelector("button[type=submit]")).Click();
        WaitForHeading(browser, "Ваше сообщение");
        Screenshot(browser, "thread-ru.png");
    }

    [Fact]
    public void The_pages_render_their_scriptless_form_in_kazakh()
    {
        using var browser = StartBrowser();
        browser.Navigate().GoToUrl(new Uri(service.Client.BaseAddress!, "/kk/submit"));

        WaitForHeading(browser, "Хабарлама немесе файл жіберу");
        Assert.False(browser.FindElement(By.Id("website")).Displayed);
        Screenshot(browser, "form-kk.png");
    }

    public void Dispose() => _files.Dispose();

    private ChromeDriver StartBrowser() => ScriptlessBrowser.Start(_files);

    private static void WaitForHeading(ChromeDriver browser, string expected) => ScriptlessBrowser.WaitForHeading(browser, expected);

    private static void Screenshot(ChromeDriver browser, string name) => ScriptlessBrowser.Screenshot(browser, name);
}
