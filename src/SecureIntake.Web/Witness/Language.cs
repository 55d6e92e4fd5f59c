using System.Globalization;

namespace SecureIntake.Web.Witness;

/// <summary>A language of the witness pages: chosen by the first path segment (a link, no script, no cookie).</summary>
public sealed record Language(string Code, CultureInfo Culture)
{
    public static readonly IReadOnlyList<Language> All =
    [
        new("en", CultureInfo.GetCultureInfo("en")),
        new("ru", CultureInfo.GetCultureInfo("ru")),
        new("kk", CultureInfo.GetCultureInfo("kk")),
    ];

    public static Language? Find(string code) => All.FirstOrDefault(l => l.Code == code);

    /// <summary>The CLDR plural category of a whole number, which picks the resource key's suffix.</summary>
    public string PluralCategory(long n) => Code switch
    {
        "ru" when n % 10 == 1 && n % 100 != 11 => "one",
        "ru" when n % 10 is >= 2 and <= 4 && n % 100 is < 12 or > 14 => "few",
        "ru" => "many",
        _ => n == 1 ? "one" : "other",
    };
}
