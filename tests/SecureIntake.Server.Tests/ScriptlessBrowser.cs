using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using SecureIntake.Testing;

namespace SecureIntake.Server.Tests;

/// <summary>Headless Chromium with JavaScript switched off, as on Tor Browser's "Safest" level; our pages need none.</summary>
internal static class ScriptlessBrowser
{
    public static ChromeDriver Start(TemporaryDirectory profiles)
    {
        var options = new ChromeOptions { BinaryLocation = HeadlessChromium.Browser };
        options.AddArguments(HeadlessChromium.Arguments(profiles.File($"profile-{Guid.NewGuid():N}")));
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
    public static void WaitForHeading(ChromeDriver browser, string expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        var seen = "";
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                seen = browser.FindElement(By.TagName("h1")).Text;
                if (seen == expected || (expected.EndsWith('*') && seen.StartsWith(expected[..^1], StringComparison.Ordinal)))
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

        Assert.Fail($"expected the heading '{expected}' within 90 s, the page still shows '{seen}': {browser.FindElement(By.TagName("main")).Text}");
    }

    /// <summary>Kept beside the test results for a person to look at; the assertions do not depend on it.</summary>
    public static void Screenshot(ChromeDriver browser, string name) =>
        browser.GetScreenshot().SaveAsFile(Path.Combine(AppContext.BaseDirectory, name));
}
