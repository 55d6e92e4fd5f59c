using Microsoft.Extensions.Options;

namespace SecureIntake.Web.Witness;

/// <summary>What one form post may hold and how much the witness side takes in; every limit is enforced while the body streams in.</summary>
public sealed class IntakeLimits
{
    public const string Section = "Intake";

    /// <summary>The whole request, files included (default 2 GiB).</summary>
    public long MaxRequestBytes { get; set; } = 2L << 30;

    public int MaxFiles { get; set; } = 20;

    public int MaxMessageCharacters { get; set; } = 100_000;

    public int MaxFileNameCharacters { get; set; } = 255;

    /// <summary>
    /// Posts taken in at once. Large, because a post streams (its memory is small) and only posts with a valid
    /// form token get a slot; beyond it a post waits <see cref="AdmissionWaitSeconds"/>, then gets the busy page.
    /// </summary>
    public int MaxConcurrentSubmissions { get; set; } = 128;

    public int AdmissionWaitSeconds { get; set; } = 30;

    /// <summary>
    /// A post that delivers no byte for this long ends and nothing of it is kept. Two minutes rides out a
    /// congested or rebuilding Tor circuit, and still makes a connection held open by sending nothing cost an
    /// attacker a new connection every two minutes.
    /// </summary>
    public int StallSeconds { get; set; } = 120;

    /// <summary>
    /// The average rate a post's body must keep, judged after <see cref="StallSeconds"/> (0: not judged). 1 KiB/s is
    /// far below any link Tor runs on, yet makes holding all the slots open cost an attacker a steady upload.
    /// </summary>
    public int MinBytesPerSecond { get; set; } = 1024;

    /// <summary>Posts (new submissions and follow-ups) admitted in any hour; beyond it, the busy page.</summary>
    public int HourlyPosts { get; set; } = 1000;

    /// <summary>Bytes read from admitted posts in any hour (default 20 GiB); beyond it, the busy page.</summary>
    public long HourlyBytes { get; set; } = 20L << 30;

    /// <summary>How long a form page's token is accepted: long enough to write a long testimony.</summary>
    public int FormTokenHours { get; set; } = 12;

    /// <summary>
    /// Kept posts one form token is good for. One: a refused or broken post gives its use back, so the witness can
    /// send the same form again, while a browser re-sending a form already received is refused rather than stored twice.
    /// </summary>
    public int PostsPerFormToken { get; set; } = 1;

    /// <summary>Codename checks waiting for their turn (two run at once); more get the busy page.</summary>
    public int MaxWaitingCodenameChecks { get; set; } = 32;
}

internal sealed class IntakeLimitsValidator : IValidateOptions<IntakeLimits>
{
    public ValidateOptionsResult Validate(string? name, IntakeLimits limits)
    {
        var problems = new List<string>();
        Check(limits.MaxRequestBytes >= 1024, "MaxRequestBytes must be at least 1024");
        Check(limits.MaxFiles >= 0, "MaxFiles cannot be negative");
        Check(limits.MaxMessageCharacters >= 1, "MaxMessageCharacters must be at least 1");
        Check(limits.MaxFileNameCharacters >= 1, "MaxFileNameCharacters must be at least 1");
        Check(limits.MaxConcurrentSubmissions >= 1, "MaxConcurrentSubmissions must be at least 1");
        Check(limits.AdmissionWaitSeconds is >= 0 and <= 600, "AdmissionWaitSeconds must be between 0 and 600");
        Check(limits.StallSeconds is >= 1 and <= 3600, "StallSeconds must be between 1 and 3600");
        Check(limits.MinBytesPerSecond >= 0, "MinBytesPerSecond cannot be negative");
        Check(limits.HourlyPosts >= 1, "HourlyPosts must be at least 1");
        Check(limits.HourlyBytes >= limits.MaxRequestBytes, "HourlyBytes must be at least MaxRequestBytes, or the largest allowed post could never be taken");
        Check(limits.FormTokenHours is >= 1 and <= 168, "FormTokenHours must be between 1 and 168");
        Check(limits.PostsPerFormToken >= 1, "PostsPerFormToken must be at least 1");
        Check(limits.MaxWaitingCodenameChecks >= 0, "MaxWaitingCodenameChecks cannot be negative");
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);

        void Check(bool holds, string problem)
        {
            if (!holds)
            {
                problems.Add($"{IntakeLimits.Section}:{problem}");
            }
        }
    }
}
