namespace SecureIntake.Web.Pages.Shared;

/// <summary>
/// What the one layout (<c>Pages/Shared/_Layout.cshtml</c>) needs from a page: the shell every witness and desk page
/// shares, with the same stylesheet and nothing else loaded. A page fills the header's slot (language links, the
/// desk's navigation) by overriding <c>ExecuteSectionAsync(HeaderSection)</c>.
/// </summary>
/// <param name="Language">The BCP 47 code for <c>&lt;html lang&gt;</c>.</param>
/// <param name="Title">The whole <c>&lt;title&gt;</c>.</param>
/// <param name="HomeHref">Where the header's first link leads.</param>
/// <param name="HomeLabel">That link's text.</param>
public sealed record PageLayout(string Language, string Title, string HomeHref, string HomeLabel)
{
    /// <summary>The section rendered inside <c>&lt;header&gt;</c>, after the home link.</summary>
    public const string HeaderSection = "header";

    /// <summary>"rtl" for a right-to-left language; null leaves the attribute out (left-to-right is HTML's default).</summary>
    public string? Direction { get; init; }

    /// <summary>A class on <c>&lt;body&gt;</c> (the desk's wider layout), or null for none.</summary>
    public string? BodyClass { get; init; }

    public static string? DirectionOf(System.Globalization.CultureInfo culture) => culture.TextInfo.IsRightToLeft ? "rtl" : null;
}
