using System.Buffers;
using System.Globalization;
using System.Text;

namespace SecureIntake.Desk;

/// <summary>
/// Names for the files of one folder, made from names a witness chose. Those are hostile data: they may try to
/// climb out of the folder, hide their real extension behind a bidi override, name a Windows device, or
/// collide with another file. Editors copy pulled folders to macOS and Windows, so the rules of all three
/// systems apply, and names are compared as those systems do (case-insensitively, in one normalization form).
/// </summary>
internal sealed class SafeFileNames
{
    /// <summary>
    /// Linux allows 255 bytes; the margin leaves room for the hidden ".NAME.GUID.partial" file that
    /// <see cref="PlaintextFile"/> writes first.
    /// </summary>
    public const int MaxBytes = 200;

    // Longer "extensions" are text after a dot rather than a type, and may be cut like the rest of the name.
    private const int MaxExtensionBytes = 16;

    private static readonly SearchValues<char> InvalidOnWindows = SearchValues.Create("<>:\"/\\|?*");

    // Windows opens these devices whatever the extension; the superscript digits count there too.
    private static readonly HashSet<string> DeviceNames = new(
        ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
         .. "0123456789¹²³".SelectMany(digit => new[] { $"COM{digit}", $"LPT{digit}" })],
        StringComparer.OrdinalIgnoreCase);

    private readonly HashSet<string> _taken = new(StringComparer.OrdinalIgnoreCase);

    /// <param name="taken">Names already in the folder; they are never handed out again.</param>
    public SafeFileNames(IEnumerable<string>? taken = null)
    {
        foreach (var name in taken ?? [])
        {
            _taken.Add(name.Normalize(NormalizationForm.FormC));
        }
    }

    /// <summary>
    /// A safe name for <paramref name="original"/> that no earlier call returned: " (2)", " (3)"… go before
    /// the extension when the name is taken. <paramref name="number"/> names the file when nothing is left.
    /// </summary>
    public string Claim(string? original, int number)
    {
        var clean = Clean(original, number);
        var name = clean;
        for (var copy = 2; !_taken.Add(name); copy++)
        {
            name = Fit(clean, string.Create(CultureInfo.InvariantCulture, $" ({copy})"));
        }

        return name;
    }

    /// <summary>The safe form of one name, without regard to the other names in the folder.</summary>
    public static string Clean(string? original, int number)
    {
        var name = LastComponent(Visible(original ?? "").Normalize(NormalizationForm.FormC));
        name = Replace(TrimDotsAndSpaces(name));
        name = TrimDotsAndSpaces(Fit(name, ""));
        if (name.Length == 0)
        {
            return string.Create(CultureInfo.InvariantCulture, $"file-{number}");
        }

        return IsDeviceName(name) ? Fit("_" + name, "") : name;
    }

    public static bool IsDeviceName(string name)
    {
        // Windows looks at the part before the first dot, ignoring spaces before it: "nul .txt" is NUL too.
        var dot = name.IndexOf('.', StringComparison.Ordinal);
        return DeviceNames.Contains((dot < 0 ? name : name[..dot]).TrimEnd(' '));
    }

    /// <summary>Drops control and format characters (U+202E and its kin included); any other space becomes " ".</summary>
    private static string Visible(string name)
    {
        var visible = new StringBuilder(name.Length);
        foreach (var rune in name.EnumerateRunes())
        {
            // A lone surrogate arrives here as U+FFFD, which every file system stores as it is.
            if (TerminalText.IsInvisible(rune))
            {
                continue;
            }

            visible.Append(Rune.GetUnicodeCategory(rune) == UnicodeCategory.SpaceSeparator ? " " : rune.ToString());
        }

        return visible.ToString();
    }

    private static string LastComponent(string name)
    {
        var separator = name.AsSpan().LastIndexOfAny('/', '\\');
        return separator < 0 ? name : name[(separator + 1)..];
    }

    private static string TrimDotsAndSpaces(string name) => name.Trim('.', ' ');

    private static string Replace(string name)
    {
        if (name.AsSpan().IndexOfAny(InvalidOnWindows) < 0)
        {
            return name;
        }

        var replaced = name.ToCharArray();
        for (var i = 0; i < replaced.Length; i++)
        {
            if (InvalidOnWindows.Contains(replaced[i]))
            {
                replaced[i] = '_';
            }
        }

        return new string(replaced);
    }

    /// <summary>Shortens the part before the extension, whole characters at a time, until the name with <paramref name="suffix"/> fits.</summary>
    private static string Fit(string name, string suffix)
    {
        var dot = name.LastIndexOf('.');
        var hasExtension = dot > 0 && dot < name.Length - 1 && Encoding.UTF8.GetByteCount(name.AsSpan(dot)) <= MaxExtensionBytes;
        var stem = hasExtension ? name[..dot] : name;
        var extension = hasExtension ? name[dot..] : "";
        var budget = MaxBytes - Encoding.UTF8.GetByteCount(extension) - Encoding.UTF8.GetByteCount(suffix);
        return Shorten(stem, budget) + suffix + extension;
    }

    private static string Shorten(string text, int maxBytes)
    {
        if (Encoding.UTF8.GetByteCount(text) <= maxBytes)
        {
            return text;
        }

        // Cutting inside a grapheme would change a letter (й without its breve) or split an emoji; only when
        // one grapheme alone is too long is it cut between code points.
        var kept = new StringBuilder();
        var bytes = 0;
        var elements = StringInfo.GetTextElementEnumerator(text);
        while (elements.MoveNext())
        {
            var element = elements.GetTextElement();
            var size = Encoding.UTF8.GetByteCount(element);
            if (bytes + size > maxBytes)
            {
                if (kept.Length == 0)
                {
                    foreach (var rune in element.EnumerateRunes().TakeWhile(rune => (bytes += rune.Utf8SequenceLength) <= maxBytes))
                    {
                        kept.Append(rune.ToString());
                    }
                }

                break;
            }

            kept.Append(element);
            bytes += size;
        }

        return kept.ToString();
    }
}
