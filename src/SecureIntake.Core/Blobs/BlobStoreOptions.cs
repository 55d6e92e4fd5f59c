using Microsoft.Extensions.Options;

namespace SecureIntake.Core.Blobs;

public sealed class BlobStoreOptions
{
    public const string Section = "Storage";

    /// <summary>Where encrypted items are kept, one file each; nothing else is ever written there.</summary>
    public string BlobDirectory { get; set; } = "";

    /// <summary>Below this much free space new submissions are refused, so that what is kept stays whole.</summary>
    public long MinimumFreeBytes { get; set; } = 2L << 30;
}

internal sealed class BlobStoreOptionsValidator : IValidateOptions<BlobStoreOptions>
{
    public ValidateOptionsResult Validate(string? name, BlobStoreOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.BlobDirectory) || !Path.IsPathRooted(options.BlobDirectory))
        {
            return ValidateOptionsResult.Fail($"{BlobStoreOptions.Section}:BlobDirectory must be an absolute path to the directory for encrypted items");
        }

        if (!Directory.Exists(options.BlobDirectory))
        {
            return ValidateOptionsResult.Fail($"{BlobStoreOptions.Section}:BlobDirectory '{options.BlobDirectory}' does not exist");
        }

        return options.MinimumFreeBytes < 0
            ? ValidateOptionsResult.Fail($"{BlobStoreOptions.Section}:MinimumFreeBytes cannot be negative")
            : ValidateOptionsResult.Success;
    }
}
