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
}

internal sealed class SubmissionRejectedException(SubmissionProblem problem) : Exception(problem.ToString())
{
    public SubmissionProblem Problem { get; } = problem;
}
