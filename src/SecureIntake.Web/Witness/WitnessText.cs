using System.Resources;

namespace SecureIntake.Web.Witness;

/// <summary>
/// The witness pages' texts from Resources/WitnessText.*.resx: adding a language is adding a file (and its
/// entry in <see cref="Language.All"/>). A text missing in a language falls back to English.
/// </summary>
internal sealed class WitnessText
{
    private readonly ResourceManager _resources = new("SecureIntake.Web.Resources.WitnessText", typeof(WitnessText).Assembly);

    public string this[Language language, string key] =>
        _resources.GetString(key, language.Culture) ?? throw new InvalidOperationException($"no text '{key}'");

    public string Format(Language language, string key, params object[] values) =>
        string.Format(language.Culture, this[language, key], values);

    /// <summary>Picks key_one, key_few, key_many or key_other by the count, as the language's grammar wants.</summary>
    public string Plural(Language language, string key, long count, params object[] values) =>
        Format(language, $"{key}_{language.PluralCategory(count)}", values);

    public string Size(Language language, long bytes) => bytes >= 1L << 30 && bytes % (1L << 30) == 0
        ? Format(language, "Unit_GB", bytes >> 30)
        : Format(language, "Unit_MB", Math.Max(1, bytes >> 20));
}
