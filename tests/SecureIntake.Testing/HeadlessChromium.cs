namespace SecureIntake.Testing;

/// <summary>Where Debian puts chromium and its driver; a missing one fails the test, it never skips.</summary>
public static class HeadlessChromium
{
    public static string Browser => ExternalTool.Require("chromium", "chromium");

    public static string Driver => ExternalTool.Require("chromedriver", "chromium-driver");

    /// <summary>
    /// Flags for a headless run as root on a machine with no network beyond loopback: no sandbox (root),
    /// and no background requests to Google that would only fail.
    /// </summary>
    public static IReadOnlyList<string> Arguments(string profileDirectory) =>
    [
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1000,1400",
        $"--user-data-dir={profileDirectory}",
    ];
}
