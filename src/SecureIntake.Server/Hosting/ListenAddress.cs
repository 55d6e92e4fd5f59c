using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using SecureIntake.Server.CommandLine;

namespace SecureIntake.Server.Hosting;

/// <summary>One address of a listener: http://HOST:PORT (an IP address or localhost) or http://unix:/PATH.</summary>
internal abstract record ListenAddress(string Text)
{
    private const string Http = "http://";
    private const string UnixPrefix = "http://unix:";

    // sun_path holds 108 bytes, the terminating NUL included.
    private const int MaxSocketPathBytes = 107;

    public abstract void Bind(KestrelServerOptions kestrel, Action<ListenOptions> configure);

    /// <summary>Whether the two could not both be bound (the same socket, or ports that meet on some address).</summary>
    public abstract bool Overlaps(ListenAddress other);

    public sealed override string ToString() => Text;

    public static ListenAddress Parse(string setting, string text)
    {
        if (text.StartsWith(UnixPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return UnixSocket(setting, text, text[UnixPrefix.Length..]);
        }

        if (text.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            throw new SettingsException($"{setting}: '{text}' is https; the service speaks plain http to Tor or a reverse proxy in front of it, " +
                "which holds any certificate: write http://HOST:PORT or http://unix:/PATH");
        }

        if (!text.StartsWith(Http, StringComparison.OrdinalIgnoreCase))
        {
            throw Malformed(setting, text);
        }

        var authority = text[Http.Length..];
        if (authority.EndsWith('/'))
        {
            authority = authority[..^1];
        }

        if (authority.IndexOfAny(['/', '?', '#', '@']) >= 0)
        {
            throw new SettingsException($"{setting}: '{text}' has a path, query or user name; write only http://HOST:PORT");
        }

        var colon = authority.LastIndexOf(':');
        if (colon < 0)
        {
            throw new SettingsException($"{setting}: '{text}' names no port; write http://HOST:PORT");
        }

        var port = authority[(colon + 1)..];
        if (port.Length is 0 or > 5 || !port.All(char.IsAsciiDigit) || int.Parse(port, CultureInfo.InvariantCulture) is < 1 or > 65535)
        {
            throw new SettingsException($"{setting}: '{text}' has no valid port (1 to 65535)");
        }

        return new TcpAddress(text, Host(setting, text, authority[..colon]), int.Parse(port, CultureInfo.InvariantCulture));
    }

    /// <summary>An IP address (IPv6 in brackets), or null for localhost, which Kestrel binds on both loopback addresses.</summary>
    private static IPAddress? Host(string setting, string text, string host)
    {
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (host.StartsWith('[') && host.EndsWith(']') && IPAddress.TryParse(host[1..^1], out var v6) && v6.AddressFamily == AddressFamily.InterNetworkV6)
        {
            return v6;
        }

        // IPAddress.TryParse also takes "1" or "0x7f.1"; only the dotted quad an admin means is accepted.
        var parts = host.Split('.');
        if (parts.Length == 4 && parts.All(p => p.Length is > 0 and <= 3 && p.All(char.IsAsciiDigit)) && IPAddress.TryParse(host, out var v4)
            && v4.AddressFamily == AddressFamily.InterNetwork)
        {
            return v4;
        }

        throw new SettingsException($"{setting}: '{text}' must name an IP address (IPv6 in brackets, 0.0.0.0 or [::] for every address) or localhost, " +
            $"not '{host}'");
    }

    private static UnixSocketAddress UnixSocket(string setting, string text, string path)
    {
        if (!Path.IsPathRooted(path) || path.EndsWith('/') || path.Contains(':', StringComparison.Ordinal))
        {
            throw new SettingsException($"{setting}: '{text}' must name an absolute socket path, e.g. http://unix:/run/secureintake/witness.sock");
        }

        if (Encoding.UTF8.GetByteCount(path) > MaxSocketPathBytes)
        {
            throw new SettingsException($"{setting}: the socket path of '{text}' is longer than {MaxSocketPathBytes} bytes, which Unix sockets cannot hold");
        }

        return new UnixSocketAddress(text, Path.GetFullPath(path));
    }

    private static SettingsException Malformed(string setting, string text) =>
        new($"{setting}: '{text}' is not an address of the form http://HOST:PORT (an IP address or localhost) or http://unix:/PATH");
}
