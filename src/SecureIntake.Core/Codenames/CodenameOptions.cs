using Microsoft.Extensions.Options;

namespace SecureIntake.Core.Codenames;

public sealed class CodenameOptions
{
    public const string Section = "Codenames";

    /// <summary>
    /// An install-wide secret (base64, at least 32 bytes), kept outside the database: without it a stolen
    /// database does not let anyone test codename guesses offline. Changing it orphans every codename.
    /// Best read from a file named by Codenames:PepperFile (e.g. a systemd credential).
    /// </summary>
    public string Pepper { get; set; } = "";

    /// <summary>Words per codename; 7 words of the 7,776-word list give about 90 bits.</summary>
    public int Words { get; set; } = 7;

    /// <summary>Argon2id memory in KiB and passes: the cost of every codename check, guess or not.</summary>
    public int MemoryKiB { get; set; } = 32 * 1024;

    public int Iterations { get; set; } = 2;
}

internal sealed class CodenameOptionsValidator : IValidateOptions<CodenameOptions>
{
    public const double MinimumBits = 80;

    public ValidateOptionsResult Validate(string? name, CodenameOptions options)
    {
        var problems = new List<string>();
        if (!IsLongBase64(options.Pepper))
        {
            problems.Add($"{CodenameOptions.Section}:Pepper (or the file named by {CodenameOptions.Section}:PepperFile) must be a secret of at least 32 random bytes " +
                "in base64 (e.g. `head -c 32 /dev/urandom | base64`)");
        }

        if (options.Words * Math.Log2(CodenameWordlist.Size) < MinimumBits)
        {
            problems.Add($"{CodenameOptions.Section}:Words must give at least {MinimumBits} bits ({Math.Ceiling(MinimumBits / Math.Log2(CodenameWordlist.Size))} words or more)");
        }

        if (options.MemoryKiB < 8 * 1024 || options.Iterations < 1)
        {
            problems.Add($"{CodenameOptions.Section}:MemoryKiB must be at least 8192 and Iterations at least 1");
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    private static bool IsLongBase64(string value)
    {
        Span<byte> buffer = stackalloc byte[256];
        return Convert.TryFromBase64String(value, buffer, out var written) && written >= 32;
    }
}
