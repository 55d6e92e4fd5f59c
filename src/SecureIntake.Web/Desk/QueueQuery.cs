using SecureIntake.Core.Triage;

namespace SecureIntake.Web.Desk;

/// <summary>The queue's filters as the query string carries them; blank values mean "any".</summary>
internal sealed record QueueQuery(string? Status, string? Desk, string? Assignee, string? Tag, string? Channel, string? Priority, string? Witness, string? Sort,
    int? Page)
{
    public QueueFilter Filter => new(Blank(Status), Blank(Desk), Blank(Assignee), Blank(Tag)?.ToLowerInvariant(), Blank(Channel), Blank(Priority), Witness == "1",
        Sort is QueueFilter.Oldest or QueueFilter.ByPriority ? Sort : QueueFilter.Newest);

    public static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
