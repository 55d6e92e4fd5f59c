using System.Net;

namespace SecureIntake.Desk;

internal static class DeskServerAddress
{
    public const string Help = """
        The desk's address, e.g. https://desk.example.org. Plain http is accepted only for 127.0.0.1, localhost and
        [::1]: elsewhere the password and the session would cross the network in the clear. An onion service is
        reached at its https address through Tor (e.g. HTTPS_PROXY=socks5://127.0.0.1:9050), or through a local
        forwarder given as http://127.0.0.1:PORT
        """;

    /// <summary>The address without a trailing slash, so that API paths are appended as "{server}/desk/api/…".</summary>
    public static string Parse(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            throw new DeskToolException($"'{TerminalText.Clean(text)}' is not an https address, e.g. https://desk.example.org");
        }

        if (uri.UserInfo.Length > 0 || uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            throw new DeskToolException("give the server address without a user name, query or fragment, e.g. https://desk.example.org");
        }

        if (uri.Scheme == Uri.UriSchemeHttp && !IsLoopback(uri))
        {
            throw new DeskToolException(
                $"refusing plain http to {uri.Host}: your password and session would cross the network in the clear; use https (see `secureintake-desk login --help` for onion services)");
        }

        return uri.GetLeftPart(UriPartial.Path).TrimEnd('/');
    }

    public static bool IsLoopback(Uri uri) =>
        uri.HostNameType == UriHostNameType.Dns
            ? string.Equals(uri.Host, "localhost", StringComparison.OrdinalIgnoreCase)
            : IPAddress.TryParse(uri.IdnHost, out var address) && (address.Equals(IPAddress.Loopback) || address.Equals(IPAddress.IPv6Loopback));
}
