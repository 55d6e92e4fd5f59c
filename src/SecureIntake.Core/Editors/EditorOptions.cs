using Microsoft.Extensions.Options;

namespace SecureIntake.Core.Editors;

public sealed class EditorOptions
{
    public const string Section = "Editors";

    /// <summary>Argon2id memory (KiB) and passes of every editor password hash; stored hashes keep their own cost.</summary>
    public int PasswordMemoryKiB { get; set; } = 64 * 1024;

    public int PasswordIterations { get; set; } = 3;
}

internal sealed class EditorOptionsValidator : IValidateOptions<EditorOptions>
{
    public ValidateOptionsResult Validate(string? name, EditorOptions options) =>
        options.PasswordMemoryKiB < 8 * 1024 || options.PasswordMemoryKiB > 1024 * 1024 || options.PasswordIterations is < 1 or > 100
            ? ValidateOptionsResult.Fail($"{EditorOptions.Section}:PasswordMemoryKiB must be 8192 to 1048576 and PasswordIterations 1 to 100")
            : ValidateOptionsResult.Success;
}
