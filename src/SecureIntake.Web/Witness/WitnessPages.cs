using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Unicode;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using SecureIntake.Core.Replies;

namespace SecureIntake.Web.Witness;

/// <summary>
/// Server-rendered witness pages: plain HTML that works with JavaScript off, one small stylesheet from
/// this origin, nothing else loaded. Every text comes from <see cref="WitnessText"/>.
/// </summary>
internal sealed class WitnessPages(WitnessText text, IOptions<IntakeLimits> limits, IOptions<WebOptions> web)
{
    // Cyrillic and Kazakh letters as themselves, not as &#x...; entities: pages stay small and readable.
    private static readonly HtmlEncoder Html = HtmlEncoder.Create(UnicodeRanges.All);

    public ContentHttpResult Landing(Language language) => Page(language, "", StatusCodes.Status200OK, text[language, "Landing_Heading"], $"""
        <h1>{E(text[language, "Landing_Heading"])}</h1>
        <p>{E(text[language, "Landing_Intro"])}</p>
        <h2>{E(text[language, "Safety_Heading"])}</h2>
        <ul>
        <li>{E(text[language, "Safety_Tor"])}</li>
        <li>{E(text[language, "Safety_Tell"])}</li>
        <li>{E(text[language, "Safety_Promise"])}</li>
        </ul>
        <p><a class="button" href="/{language.Code}/submit">{E(text[language, "Landing_Submit"])}</a></p>
        <p><a href="/{language.Code}/return">{E(text[language, "Landing_Return"])}</a></p>
        """);

    public ContentHttpResult Form(Language language, IReadOnlyList<string> desks, string token) =>
        Page(language, "/submit", StatusCodes.Status200OK, text[language, "Form_Heading"], $"""
            <h1>{E(text[language, "Form_Heading"])}</h1>
            {UploadForm(language, $"/{language.Code}/submit", desks, token)}
            """);

    /// <summary>The form for a message and files; desks are offered only for a new submission with several.</summary>
    private string UploadForm(Language language, string action, IReadOnlyList<string> desks, string token)
    {
        var limit = limits.Value;
        var deskChoice = new StringBuilder();
        if (desks.Count > 1)
        {
            deskChoice.Append(CultureInfo.InvariantCulture, $"""<label for="desk">{E(text[language, "Form_Desk"])}</label><select id="desk" name="desk">""");
            foreach (var desk in desks)
            {
                deskChoice.Append(CultureInfo.InvariantCulture, $"""<option value="{E(desk)}">{E(desk)}</option>""");
            }

            deskChoice.Append("</select>");
        }

        // Field order matters: the token first, the desk before any content, the files last (see MultipartSubmission).
        return $"""
            <p class="limits">{E(text.Plural(language, "Form_Limits", limit.MaxFiles, text.Size(language, limit.MaxRequestBytes), limit.MaxFiles))}</p>
            <form method="post" action="{action}" enctype="multipart/form-data">
            {TokenField(token)}
            {deskChoice}
            <label for="message">{E(text[language, "Form_Message"])}</label>
            <textarea id="message" name="message" rows="10" maxlength="{limit.MaxMessageCharacters}"></textarea>
            <div class="trap" aria-hidden="true"><label for="website">{E(text[language, "Form_Honeypot"])}</label><input id="website" name="website" type="text" tabindex="-1" autocomplete="off"></div>
            <label for="files">{E(text[language, "Form_Files"])}</label>
            <input id="files" name="files" type="file" multiple>
            <button type="submit">{E(text[language, "Form_Send"])}</button>
            </form>
            """;
    }

    /// <summary>The one time the codename is ever shown.</summary>
    public ContentHttpResult Received(Language language, string codename) => Page(language, "/submit", StatusCodes.Status200OK, text[language, "Received_Heading"], $"""
        <h1>{E(text[language, "Received_Heading"])}</h1>
        <p>{E(text[language, "Received_Text"])}</p>
        <h2>{E(text[language, "Received_Codename"])}</h2>
        <p class="codename" id="your-codename">{E(codename)}</p>
        <p>{E(text[language, "Received_CodenameHelp"])}</p>
        <p><a href="/{language.Code}/return">{E(text[language, "Landing_Return"])}</a></p>
        """);

    public ContentHttpResult Return(Language language, bool notFound, string token) => Page(language, "/return",
        notFound ? StatusCodes.Status400BadRequest : StatusCodes.Status200OK, text[language, "Return_Heading"], $"""
        <h1>{E(text[language, "Return_Heading"])}</h1>
        {(notFound ? $"""<p class="error">{E(text[language, "Return_NotFound"])}</p>""" : "")}
        <form method="post" action="/{language.Code}/return">
        {TokenField(token)}
        <label for="codename">{E(text[language, "Return_Label"])}</label>
        <input id="codename" name="codename" type="text" autocomplete="off" autocapitalize="off" spellcheck="false" maxlength="{Core.Codenames.Codenames.MaxInputCharacters}" required>
        <button type="submit">{E(text[language, "Return_Submit"])}</button>
        </form>
        """);

    public ContentHttpResult Thread(Language language, IReadOnlyList<ThreadReply> replies, string token) => Page(language, "/thread", StatusCodes.Status200OK, text[language, "Thread_Heading"], $"""
        <h1>{E(text[language, "Thread_Heading"])}</h1>
        {Replies(language, replies)}
        <h2>{E(text[language, "Thread_SendMore"])}</h2>
        {UploadForm(language, $"/{language.Code}/thread", [], token)}
        <form method="post" action="/{language.Code}/signout">{TokenField(token)}<button type="submit">{E(text[language, "Thread_SignOut"])}</button></form>
        """);

    private string Replies(Language language, IReadOnlyList<ThreadReply> replies)
    {
        if (replies.Count == 0)
        {
            return $"<p>{E(text[language, "Thread_NoReplies"])}</p>";
        }

        var html = new StringBuilder($"<h2>{E(text[language, "Thread_Replies"])}</h2>");
        foreach (var reply in replies)
        {
            var written = reply.WrittenAt.UtcDateTime.ToString(text[language, "Thread_ReplyDate"], language.Culture);
            html.Append(CultureInfo.InvariantCulture, $"""<article class="reply"><h3>{E(text.Format(language, "Thread_Reply", written))}</h3><p class="reply-text">{E(reply.Text)}</p></article>""");
        }

        return html.ToString();
    }

    public ContentHttpResult FollowUpReceived(Language language) => Page(language, "/thread", StatusCodes.Status200OK, text[language, "Received_Heading"], $"""
        <h1>{E(text[language, "Received_Heading"])}</h1>
        <p>{E(text[language, "FollowUp_Received"])}</p>
        <p><a href="/{language.Code}/thread">{E(text[language, "Thread_Back"])}</a></p>
        """);

    public ContentHttpResult Rejected(Language language, SubmissionProblem problem, TimeSpan? retryAfter = null)
    {
        var limit = limits.Value;
        var (status, message) = problem switch
        {
            SubmissionProblem.TooLarge => (StatusCodes.Status413PayloadTooLarge, text.Format(language, "Error_TooLarge", text.Size(language, limit.MaxRequestBytes))),
            SubmissionProblem.TooManyFiles => (StatusCodes.Status400BadRequest, text.Plural(language, "Error_TooManyFiles", limit.MaxFiles, limit.MaxFiles)),
            SubmissionProblem.MessageTooLong => (StatusCodes.Status400BadRequest, text.Plural(language, "Error_MessageTooLong", limit.MaxMessageCharacters, limit.MaxMessageCharacters)),
            SubmissionProblem.FileNameTooLong => (StatusCodes.Status400BadRequest, text.Format(language, "Error_FileNameTooLong", limit.MaxFileNameCharacters)),
            SubmissionProblem.Empty => (StatusCodes.Status400BadRequest, text[language, "Error_Empty"]),
            SubmissionProblem.NotMultipart => (StatusCodes.Status415UnsupportedMediaType, text[language, "Error_NotMultipart"]),
            SubmissionProblem.CrossSite => (StatusCodes.Status403Forbidden, text[language, "Error_FormExpired"]),
            SubmissionProblem.SignedOut => (StatusCodes.Status401Unauthorized, text[language, "Return_Heading"]),
            SubmissionProblem.UnknownDesk => (StatusCodes.Status400BadRequest, text[language, "Error_UnknownDesk"]),
            SubmissionProblem.NotAccepting => (StatusCodes.Status503ServiceUnavailable, text[language, "Error_NotAccepting"]),
            SubmissionProblem.Busy => (StatusCodes.Status503ServiceUnavailable, BusyText(language, retryAfter ?? TimeSpan.FromMinutes(1))),
            SubmissionProblem.Stalled => (StatusCodes.Status408RequestTimeout, text[language, "Error_Stalled"]),
            SubmissionProblem.ThreadGone => (StatusCodes.Status410Gone, text[language, "Error_ThreadGone"]),
            _ => (StatusCodes.Status400BadRequest, text[language, "Error_Malformed"]),
        };
        return Page(language, "/submit", status, text[language, "Rejected_Heading"], $"""
            <h1>{E(text[language, "Rejected_Heading"])}</h1>
            <p class="error">{E(message)}</p>
            <p>{E(text[language, "Rejected_NothingStored"])}</p>
            <p><a href="/{language.Code}/submit">{E(text[language, "Rejected_Back"])}</a></p>
            """);
    }

    private string BusyText(Language language, TimeSpan retryAfter)
    {
        var minutes = (long)Math.Max(1, Math.Ceiling(retryAfter.TotalMinutes));
        return text.Plural(language, "Error_Busy", minutes, minutes);
    }

    private ContentHttpResult Page(Language current, string path, int status, string title, string main)
    {
        var languages = string.Join("", Language.All.Where(l => l != current)
            .Select(l => $"""<a href="/{l.Code}{path}" lang="{l.Code}" hreflang="{l.Code}">{E(text[l, "Language_Name"])}</a>"""));
        return TypedResults.Text($"""
            <!doctype html>
            <html lang="{current.Code}">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="referrer" content="no-referrer">
            <title>{E(title)} · {E(web.Value.NewsroomName)}</title>
            <link rel="stylesheet" href="/static/site.css">
            </head>
            <body>
            <header><a href="/{current.Code}">{E(web.Value.NewsroomName)}</a><nav>{languages}</nav></header>
            <main>
            {main}
            </main>
            </body>
            </html>
            """, "text/html; charset=utf-8", statusCode: status);
    }

    private static string TokenField(string token) => $"""<input type="hidden" name="{FormTokens.FieldName}" value="{E(token)}">""";

    private static string E(string value) => Html.Encode(value);
}
