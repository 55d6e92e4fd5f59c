using System.Globalization;
using System.Resources;
using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using SecureIntake.Core.Editors;
using SecureIntake.Web.Desk.Access;
using SecureIntake.Web.Witness;

namespace SecureIntake.Web.Desk;

/// <summary>
/// The desk's texts from Resources/DeskText.*.resx, in the editor's language: the pages and the messages handlers
/// produce. A text missing in a language falls back to English.
/// </summary>
internal sealed class DeskText
{
    private readonly ResourceManager _resources = new("SecureIntake.Web.Resources.DeskText", typeof(DeskText).Assembly);

    public string this[Language language, string key] =>
        _resources.GetString(key, language.Culture) ?? throw new InvalidOperationException($"no desk text '{key}'");

    public string Text(Language language, string key, params object[] values) =>
        values.Length == 0 ? this[language, key] : string.Format(language.Culture, this[language, key], values);

    /// <summary>Picks key_one, key_few, key_many or key_other by the count, as the language's grammar wants.</summary>
    public string Plural(Language language, string key, long count, params object[] values) =>
        Text(language, $"{key}_{language.PluralCategory(count)}", values);

    /// <summary>A value the desk stores as a fixed word (a status, a priority, a channel) in the editor's words; unknown ones as they are.</summary>
    public string Value(Language language, string kind, string value) =>
        _resources.GetString($"{kind}_{value}", language.Culture) ?? value;

    /// <summary>A moment to the minute, in UTC, written the way the culture writes dates.</summary>
    public static string Minute(Language language, DateTimeOffset time) => time.UtcDateTime.ToString("g", language.Culture);

    public static string Number(Language language, long value) => value.ToString("N0", language.Culture);
}

/// <summary>Which language a desk request is answered in.</summary>
internal static class DeskLanguage
{
    /// <summary>The claim the signed-in editor's language rides in, read with their session (<see cref="DeskClaims.Principal"/>).</summary>
    public const string Claim = "secureintake:language";

    public static Language English => Language.Find(EditorLanguage.Default)!;

    /// <summary>
    /// A signed-in editor's own choice; before sign-in a ?lang= link, then the browser's Accept-Language among
    /// the desk's languages, then English.
    /// </summary>
    public static Language Of(HttpContext? context)
    {
        if (context is null)
        {
            return English;
        }

        if (context.User.FindFirstValue(Claim) is { } chosen && Language.Find(chosen) is { } language)
        {
            return language;
        }

        if (Language.Find(context.Request.Query["lang"].ToString()) is { } linked)
        {
            return linked;
        }

        var accepted = context.Request.GetTypedHeaders().AcceptLanguage
            .Where(a => a.Quality is not <= 0)
            .OrderByDescending(a => a.Quality ?? 1)
            .Select(a => Language.Find(a.Value.ToString().Split('-')[0].ToLowerInvariant()))
            .OfType<Language>()
            .FirstOrDefault();
        return accepted ?? English;
    }
}
