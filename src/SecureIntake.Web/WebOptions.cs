using Microsoft.Extensions.Options;

namespace SecureIntake.Web;

public sealed class WebOptions
{
    public const string Section = "Web";

    /// <summary>
    /// Host names the service answers to (the onion address, the clearnet name); any other Host header gets
    /// a 400. "*.example.org" allows subdomains; "*" allows any host and is meant only for tests.
    /// </summary>
    public IList<string> AllowedHosts { get; } = [];
}

internal sealed class WebOptionsValidator : IValidateOptions<WebOptions>
{
    public ValidateOptionsResult Validate(string? name, WebOptions options) =>
        options.AllowedHosts.Count == 0 || options.AllowedHosts.Any(string.IsNullOrWhiteSpace)
            ? ValidateOptionsResult.Fail($"{WebOptions.Section}:AllowedHosts must list the host names the service answers to (for example its .onion address)")
            : ValidateOptionsResult.Success;
}
