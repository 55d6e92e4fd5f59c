namespace SecureIntake.Contracts;

// The desk API (/desk/api) as it travels: camelCase JSON through ContractJson. The server writes these, the desk
// tool reads them with every parameter required and nullability respected, so a field renamed or dropped on one
// side fails loudly on the other instead of turning into empty values.

/// <summary>POST /desk/api/sign-in: the same password and TOTP code as the web desk.</summary>
public sealed record SignInRequest(string Name, string Password, string Code)
{
    // A record prints every property; a sign-in request that ends up in a log or an exception must not carry the password.
    public override string ToString() => $"SignInRequest {{ Name = {Name} }}";
}

/// <summary>The bearer token for later calls, and when it stops working.</summary>
public sealed record SignInResponse(string Token, DateTimeOffset ExpiresAt)
{
    public override string ToString() => $"SignInResponse {{ ExpiresAt = {ExpiresAt:O} }}";
}

/// <summary>GET /desk/api/submissions: one page of the queue, metadata only.</summary>
/// <param name="Total">Submissions matching the filter over all pages; a count, so as wide as the database's.</param>
/// <param name="MoreThanTotal">The server stopped counting at <paramref name="Total"/> (and <paramref name="PageCount"/> pages): there are more.</param>
public sealed record SubmissionPage(int Page, int PageCount, long Total, IReadOnlyList<SubmissionSummary> Submissions, bool MoreThanTotal = false);

/// <summary>One queue row as the API lists it: never content, sizes only as a bucket.</summary>
public sealed record SubmissionSummary(
    Guid Id,
    string Desk,
    string Channel,
    DateTimeOffset ReceivedAt,
    string Status,
    string? Assignee,
    string Priority,
    IReadOnlyList<string> Tags,
    int Files,
    string SizeBucket,
    bool WitnessWroteSinceSeen);
