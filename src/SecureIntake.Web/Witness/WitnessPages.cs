using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace SecureIntake.Web.Witness;

/// <summary>Server-rendered pages for witnesses: plain HTML, no script, nothing from another origin.</summary>
internal static class WitnessPages
{
    public static ContentHttpResult Received() =>
        Page(StatusCodes.Status200OK, "Received", "<p>Your submission was received, encrypted and stored for the editors.</p>");

    public static ContentHttpResult Rejected(SubmissionProblem problem, IntakeLimits limits)
    {
        var (status, text) = problem switch
        {
            SubmissionProblem.TooLarge => (StatusCodes.Status413PayloadTooLarge, $"The submission is larger than {limits.MaxRequestBytes / (1 << 20)} MiB in all."),
            SubmissionProblem.TooManyFiles => (StatusCodes.Status400BadRequest, $"At most {limits.MaxFiles} files can be sent at once."),
            SubmissionProblem.MessageTooLong => (StatusCodes.Status400BadRequest, $"The message is longer than {limits.MaxMessageCharacters} characters."),
            SubmissionProblem.FileNameTooLong => (StatusCodes.Status400BadRequest, $"A file name is longer than {limits.MaxFileNameCharacters} characters; rename the file and try again."),
            SubmissionProblem.Empty => (StatusCodes.Status400BadRequest, "There was nothing to send: write a message or attach a file."),
            SubmissionProblem.NotMultipart => (StatusCodes.Status415UnsupportedMediaType, "Please use the submission form."),
            SubmissionProblem.UnknownDesk => (StatusCodes.Status400BadRequest, "Please choose a desk from the list."),
            SubmissionProblem.NotAccepting => (StatusCodes.Status503ServiceUnavailable, "Submissions cannot be accepted right now. Please try again later."),
            _ => (StatusCodes.Status400BadRequest, "The submission was incomplete or damaged in transit. Please try again."),
        };
        return Page(status, "Not sent", $"<p>{HtmlEncoder.Default.Encode(text)}</p><p>Nothing of it was stored.</p>");
    }

    private static ContentHttpResult Page(int status, string title, string body) => TypedResults.Text(
        $"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">" +
        $"<title>{HtmlEncoder.Default.Encode(title)}</title></head><body><main><h1>{HtmlEncoder.Default.Encode(title)}</h1>{body}</main></body></html>",
        "text/html; charset=utf-8", statusCode: status);
}
