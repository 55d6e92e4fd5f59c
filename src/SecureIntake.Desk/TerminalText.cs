using System.Globalization;
using System.Text;

namespace SecureIntake.Desk;

/// <summary>
/// Text from the server or from a witness is printed only through here: control and format characters
/// (escape sequences, bidi overrides) could otherwise rewrite what the editor's terminal shows.
/// </summary>
internal static class TerminalText
{
    public static string Clean(string? text, int maxLength = 300)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }

        var clean = new StringBuilder(Math.Min(text.Length, maxLength));
        foreach (var rune in text.EnumerateRunes())
        {
            if (clean.Length >= maxLength)
            {
                clean.Append('…');
                break;
            }

            clean.Append(IsInvisible(rune) ? "?" : rune.ToString());
        }

        return clean.ToString();
    }

    public static bool IsInvisible(Rune rune) => Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control
        or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;

    /// <summary>Width in what a terminal shows as characters, so that Cyrillic aligns like Latin.</summary>
    public static int Width(string text) => new StringInfo(text).LengthInTextElements;
}
