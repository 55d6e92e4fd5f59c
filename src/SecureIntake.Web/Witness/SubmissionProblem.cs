namespace SecureIntake.Web.Witness;

/// <summary>Why a witness's post was not kept; each maps to a status code and a message in their language.</summary>
public enum SubmissionProblem
{
    NotMultipart,
    TooLarge,
    TooManyFiles,
    MessageTooLong,
    FileNameTooLong,
    Empty,
    Malformed,
    UnknownDesk,
    NotAccepting,
    CrossSite,
    SignedOut,

    /// <summary>Too many posts at once or in the last hour: try again after <see cref="SubmissionRejectedException.RetryAfter"/>.</summary>
    Busy,

    /// <summary>The connection delivered nothing for Intake:StallSeconds.</summary>
    Stalled,

    /// <summary>The thread was deleted by the editors meanwhile.</summary>
    ThreadGone,
}

internal sealed class SubmissionRejectedException(SubmissionProblem problem, TimeSpan? retryAfter = null) : Exception(problem.ToString())
{
    public SubmissionProblem Problem { get; } = problem;

    /// <summary>When a busy server expects room again (sent as Retry-After and said on the page).</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;
}
