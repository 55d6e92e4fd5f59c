using Microsoft.Extensions.Options;

namespace SecureIntake.Web.Witness;

/// <summary>What one form post may hold; every limit is enforced while the body streams in.</summary>
public sealed class IntakeLimits
{
    public const string Section = "Intake";

    /// <summary>The whole request, files included (default 2 GiB).</summary>
    public long MaxRequestBytes { get; set; } = 2L << 30;

    public int MaxFiles { get; set; } = 20;

    public int MaxMessageCharacters { get; set; } = 100_000;

    public int MaxFileNameCharacters { get; set; } = 255;

    /// <summary>Posts taken in at once; more get the "try again later" page at once rather than a stalled server.</summary>
    public int MaxConcurrentSubmissions { get; set; } = 32;
}

internal sealed class IntakeLimitsValidator : IValidateOptions<IntakeLimits>
{
    public ValidateOptionsResult Validate(string? name, IntakeLimits limits)
    {
        var problems = new List<string>();
        if (limits.MaxRequestBytes < 1024)
        {
            problems.Add($"{IntakeLimits.Section}:MaxRequestBytes must be at least 1024");
        }

        if (limits.MaxFiles < 0)
        {
            problems.Add($"{IntakeLimits.Section}:MaxFiles cannot be negative");
        }

        if (limits.MaxMessageCharacters < 1)
        {
            problems.Add($"{IntakeLimits.Section}:MaxMessageCharacters must be at least 1");
        }

        if (limits.MaxConcurrentSubmissions < 1)
        {
            problems.Add($"{IntakeLimits.Section}:MaxConcurrentSubmissions must be at least 1");
        }

        if (limits.MaxFileNameCharacters < 1)
        {
            problems.Add($"{IntakeLimits.Section}:MaxFileNameCharacters must be at least 1");
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
