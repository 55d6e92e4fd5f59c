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

    /// <summary>The newsroom's name, shown at the top of every witness page.</summary>
    public string NewsroomName { get; set; } = "SecureIntake";

    /// <summary>
    /// The onion service's address (e.g. "abc…xyz.onion"). When set, clearnet responses carry an Onion-Location
    /// header so Tor Browser offers the onion site instead.
    /// </summary>
    public string? OnionAddress { get; set; }

    /// <summary>
    /// Addresses of the clearnet reverse proxy (deploy/clearnet), the only peers whose X-Forwarded-Proto is believed.
    /// Empty by default: with no proxy, forwarded headers are ignored from everyone. Never list the address Tor
    /// connects from (127.0.0.1): make the proxy connect from its own, such as 127.0.0.2 (nginx's proxy_bind).
    /// </summary>
    public IList<string> TrustedProxies { get; } = [];

    /// <summary>Where "/" leads: one of en, ru, kk.</summary>
    public string DefaultLanguage { get; set; } = "en";
}

internal sealed class WebOptionsValidator : IValidateOptions<WebOptions>
{
    public ValidateOptionsResult Validate(string? name, WebOptions options)
    {
        if (options.AllowedHosts.Count == 0 || options.AllowedHosts.Any(string.IsNullOrWhiteSpace))
        {
            return ValidateOptionsResult.Fail($"{WebOptions.Section}:AllowedHosts must list the host names the service answers to (for example its .onion address)");
        }

        if (options.TrustedProxies.FirstOrDefault(proxy => !System.Net.IPAddress.TryParse(proxy, out _)) is { } notAnAddress)
        {
            return ValidateOptionsResult.Fail($"{WebOptions.Section}:TrustedProxies must list IP addresses of the reverse proxy; '{notAnAddress}' is not one");
        }

        return Witness.Language.Find(options.DefaultLanguage) is null
            ? ValidateOptionsResult.Fail($"{WebOptions.Section}:DefaultLanguage must be one of {string.Join(", ", Witness.Language.All.Select(l => l.Code))}")
            : ValidateOptionsResult.Success;
    }
}
