using System.Drawing;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using SecureIntake.Server.Tests.Witness;

namespace SecureIntake.Server.Tests.Desk;

/// <summary>What the desk's browser tests do over and over: witness submissions to triage, an editor signing in, a screen size.</summary>
internal static class DeskBrowserSession
{
    public static readonly Size Laptop = new(1280, 800);

    public static readonly Size Phone = new(390, 844);

    /// <summary>A witness's submission through the public form, as a browser posts it.</summary>
    public static async Task SubmitAsync(DeskService desk, string message)
    {
        using var witness = desk.NewWitnessBrowser();
        using var form = WitnessForms.Multipart(await WitnessForms.TokenAsync(witness, "/en/submit"), message);
        using var submitted = await witness.PostAsync(new Uri("/en/submit", UriKind.Relative), form);
        submitted.EnsureSuccessStatusCode();
    }

    /// <summary>Signs in through the form, from a sign-in page whose heading is <paramref name="signInHeading"/>, and waits for the queue.</summary>
    public static void SignIn(ChromeDriver browser, DeskService desk, string name, byte[] secret, string queueHeading, string signInPath = "/desk/sign-in",
        string signInHeading = "Sign in to the desk")
    {
        browser.Navigate().GoToUrl(new Uri(desk.DeskAddress, signInPath));
        ScriptlessBrowser.WaitForHeading(browser, signInHeading);
        browser.FindElement(By.Id("name")).SendKeys(name);
        browser.FindElement(By.Id("password")).SendKeys(DeskService.Password);
        browser.FindElement(By.Id("code")).SendKeys(desk.NextCode(name, secret));
        browser.FindElement(By.CssSelector("button[type=submit]")).Click();
        ScriptlessBrowser.WaitForHeading(browser, queueHeading);
    }

    /// <summary>Picks a language in the header's picker, as an editor does, and waits for the queue in it.</summary>
    public static void ChooseLanguage(ChromeDriver browser, string code, string queueHeading)
    {
        browser.FindElement(By.CssSelector($"#nav-language option[value='{code}']")).Click();
        browser.FindElement(By.CssSelector("form[action='/desk/language'] button")).Click();
        ScriptlessBrowser.WaitForHeading(browser, queueHeading);
    }

    /// <summary>
    /// Makes the page's viewport exactly <paramref name="size"/>, as on that screen: the window's own size would include
    /// the browser's frame, even headless. Below 600 pixels wide it is a phone, which honours the page's viewport tag.
    /// </summary>
    public static void Resize(ChromeDriver browser, Size size) =>
        browser.ExecuteCdpCommand("Emulation.setDeviceMetricsOverride", new Dictionary<string, object?>
        {
            ["width"] = size.Width,
            ["height"] = size.Height,
            ["deviceScaleFactor"] = 1,
            ["mobile"] = size.Width < 600,
        });

    /// <summary>The current page at both sizes, kept beside the test results; the window is left at laptop size.</summary>
    public static void ScreenshotsAtBothSizes(ChromeDriver browser, string name)
    {
        Resize(browser, Phone);
        browser.Navigate().Refresh();
        ScriptlessBrowser.Screenshot(browser, $"{name}-390x844.png");
        Resize(browser, Laptop);
        browser.Navigate().Refresh();
        ScriptlessBrowser.Screenshot(browser, $"{name}-1280x800.png");
    }
}
