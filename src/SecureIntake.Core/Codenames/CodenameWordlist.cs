namespace SecureIntake.Core.Codenames;

/// <summary>The words codenames are made of: EFF's large list, plain lower-case English words easy to type on any keyboard.</summary>
internal static class CodenameWordlist
{
    public const int Size = 7776;

    private static readonly Lazy<string[]> Loaded = new(Load);

    public static IReadOnlyList<string> Words => Loaded.Value;

    private static string[] Load()
    {
        using var stream = typeof(CodenameWordlist).Assembly.GetManifestResourceStream("Codenames/eff_large_wordlist.txt")!;
        using var reader = new StreamReader(stream);
        var words = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(line => !line.StartsWith('#'))
            .ToArray();
        return words.Length == Size && words.Distinct(StringComparer.Ordinal).Count() == Size
            ? words
            : throw new InvalidOperationException($"the codename wordlist must hold {Size} distinct words");
    }
}
