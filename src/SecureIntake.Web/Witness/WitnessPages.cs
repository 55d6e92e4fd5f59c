using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using SecureIntake.Core.Replies;
using SecureIntake.Web.Pages;
using SecureIntake.Web.Pages.Witness;

namespace SecureIntake.Web.Witness;

/// <summary>
/// The witness pages, compiled from Pages/Witness/*.cshtml: plain HTML that works with JavaScript off, one small
/// stylesheet from this origin, nothing else loaded. Every text comes from <see cref="WitnessText"/>; this picks the
/// page and its status code.
/// </summary>
internal sealed class WitnessPages(WitnessText text, IOptions<IntakeLimits> limits)
{
    public static HtmlPage Landing(Language language) => new(LandingPage.Create(new LandingModel(language)));

    public HtmlPage Form(Language language, IReadOnlyList<string> desks, string token) =>
        new(SubmitPage.Create(new SubmitModel(language, desks, token, limits.Value)));

    /// <summary>The one time the codename is ever shown.</summary>
    public static HtmlPage Received(Language language, string codename) => new(ReceivedPage.Create(new ReceivedModel(language, codename)));

    public static HtmlPage Return(Language language, bool notFound, string token) =>
        new(ReturnPage.Create(new ReturnModel(language, notFound, token)), notFound ? StatusCodes.Status400BadRequest : StatusCodes.Status200OK);

    public HtmlPage Thread(Language language, IReadOnlyList<ThreadReply> replies, string token) =>
        new(ThreadPage.Create(new ThreadModel(language, replies, token, limits.Value)));

    public static HtmlPage FollowUpReceived(Language language) => new(FollowUpReceivedPage.Create(new FollowUpReceivedModel(language)));

    public HtmlPage Rejected(Language language, SubmissionProblem problem, TimeSpan? retryAfter = null)
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
        return new(RejectedPage.Create(new RejectedModel(language, message)), status);
    }

    private string BusyText(Language language, TimeSpan retryAfter)
    {
        var minutes = (long)Math.Max(1, Math.Ceiling(retryAfter.TotalMinutes));
        return text.Plural(language, "Error_Busy", minutes, minutes);
    }
}
