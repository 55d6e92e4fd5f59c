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

    private ChromeDriver StartBrowser()
    {
        var options = new ChromeOptions { BinaryLocation = HeadlessChromium.Browser };
        options.AddArguments(HeadlessChromium.Arguments(_files.File($"profile-{Guid.NewGuid():N}")));
        options.AddUserProfilePreference("profile.managed_default_content_settings.javascript", 2);
        var driverService = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(HeadlessChromium.Driver), "chromedriver");
        driverService.SuppressInitialDiagnosticInformation = true;
        driverService.HideCommandPromptWindow = true;
        return new ChromeDriver(driverService, options, TimeSpan.FromSeconds(60));
    }

    /// <summary>
    /// Waits for the next page: a click that submits a form returns before the answer arrives (the codename
    /// check alone takes a second), and until then the old page, or none, is there.
    /// </summary>
    private static void WaitForHeading(ChromeDriver browser, string expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        var seen = "";
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                seen = browser.FindElement(By.TagName("h1")).Text;
                if (seen == expected)
                {
                    return;
                }
            }
            catch (WebDriverException e) when (e is NoSuchElementException or StaleElementReferenceException)
            {
                // Between pages.
            }

            Thread.Sleep(100);
        }

        Assert.Fail($"expected the heading '{expected}', the page still shows '{seen}'");
    }

    /// <summary>Kept beside the test results for a person to look at; the assertions do not depend on it.</summary>
    private static void Screenshot(ChromeDriver browser, string name) =>
        browser.GetScreenshot().SaveAsFile(Path.Combine(AppContext.BaseDirectory, name));
}
