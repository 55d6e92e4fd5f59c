using SecureIntake.Core.Replies;
using SecureIntake.Web.Witness;

namespace SecureIntake.Web.Pages.Witness;

// Public only because RazorSlices' generated Create(model) methods are public.

/// <summary>What every witness page and part knows: the language it speaks.</summary>
public abstract record WitnessModel(Language Language);

public sealed record LandingModel(Language Language) : WitnessModel(Language);

public sealed record SubmitModel(Language Language, IReadOnlyList<string> Desks, string Token, IntakeLimits Limits) : WitnessModel(Language);

/// <summary>The page that shows the codename, the one time it is ever shown.</summary>
public sealed record ReceivedModel(Language Language, string Codename) : WitnessModel(Language);

public sealed record ReturnModel(Language Language, bool NotFound, string Token) : WitnessModel(Language);

public sealed record ThreadModel(Language Language, IReadOnlyList<ThreadReply> Replies, string Token, IntakeLimits Limits) : WitnessModel(Language);

public sealed record FollowUpReceivedModel(Language Language) : WitnessModel(Language);

/// <summary>Why a post was refused, already worded in the witness's language.</summary>
public sealed record RejectedModel(Language Language, string Message) : WitnessModel(Language);

/// <summary>The form for a message and files; desks are offered only for a new submission with several.</summary>
public sealed record UploadFormModel(Language Language, string Action, IReadOnlyList<string> Desks, string Token, IntakeLimits Limits)
    : WitnessModel(Language);

/// <summary>Links to the same page (<paramref name="Path"/> after the language) in the other languages.</summary>
public sealed record LanguageLinksModel(Language Language, string Path) : WitnessModel(Language);
