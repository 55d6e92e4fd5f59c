using Microsoft.Extensions.Options;

namespace SecureIntake.Core.Editors;

public sealed class EditorOptions
{
    public const string Section = "Editors";

    /// <summary>Argon2id memory (KiB) and passes of every editor password hash; stored hashes keep their own cost.</summary>
    public int PasswordMemoryKiB { get; set; } = 64 * 1024;

    public int PasswordIterations { get; set; } = 3;

    /// <summary>A web desk session unused this long is over (the desk tool's token lives one hour regardless).</summary>
    public TimeSpan SessionIdleTimeout { get; set; } = DeskSessions.BrowserIdleTimeout;

    /// <summary>A web desk session is over this long after sign-in, however busy.</summary>
    public TimeSpan SessionLifetime { get; set; } = DeskSessions.BrowserLifetime;
}

internal sealed class EditorOptionsValidator : IValidateOptions<EditorOptions>
{
    public ValidateOptionsResult Validate(string? name, EditorOptions options)
    {
        if (options.PasswordMemoryKiB < 8 * 1024 || options.PasswordMemoryKiB > 1024 * 1024 || options.PasswordIterations is < 1 or > 100)
        {
            return ValidateOptionsResult.Fail($"{EditorOptions.Section}:PasswordMemoryKiB must be 8192 to 1048576 and PasswordIterations 1 to 100");
        }

        // Seconds are allowed for tests of the time-out itself; a day is the most a desk on a shared machine should stay open.
        if (options.SessionIdleTimeout < TimeSpan.FromSeconds(5) || options.SessionLifetime > TimeSpan.FromDays(1) || options.SessionLifetime < options.SessionIdleTimeout)
        {
            return ValidateOptionsResult.Fail($"{EditorOptions.Section}:SessionIdleTimeout must be at least 00:00:05, and SessionLifetime at least that and at most 1.00:00:00");
        }

        return ValidateOptionsResult.Success;
    }
}
