using System.Net.Sockets;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using SecureIntake.Server.CommandLine;

namespace SecureIntake.Server.Hosting;

/// <summary>http://unix:/PATH: a Unix socket, e.g. for Tor's `HiddenServicePort 80 unix:/PATH` or a reverse proxy.</summary>
internal sealed record UnixSocketAddress(string Text, string SocketPath) : ListenAddress(Text)
{
    // Tor runs as its own user: it may connect when the admin puts it in the service's group, and nobody else may.
    private const UnixFileMode OwnerAndGroup = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;

    public override void Bind(KestrelServerOptions kestrel, Action<ListenOptions> configure) => kestrel.ListenUnixSocket(SocketPath, configure);

    public override bool Overlaps(ListenAddress other) => other is UnixSocketAddress unix && unix.SocketPath == SocketPath;

    /// <summary>
    /// Removes a socket a crashed run left behind (a clean stop removes its own), which would otherwise keep every
    /// restart from binding. A path something still listens on, or that holds anything but an empty entry, is left alone.
    /// </summary>
    public void RemoveStale(string setting)
    {
        var entry = new FileInfo(SocketPath);
        if (!entry.Exists)
        {
            if (Directory.Exists(SocketPath))
            {
                throw new SettingsException($"{setting}: '{Text}' names a directory, not a socket");
            }

            return;
        }

        if (entry.LinkTarget is not null || entry.Length > 0)
        {
            throw new SettingsException($"{setting}: '{Text}' names a file that is not a socket; remove it or choose another path");
        }

        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(SocketPath));
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            entry.Delete();
            return;
        }
        catch (SocketException e)
        {
            throw new StartupRefusedException($"{setting}: cannot use '{Text}' ({e.SocketErrorCode})");
        }

        throw new StartupRefusedException($"{setting}: something already listens on '{Text}' (another secureintake?)");
    }

    public void OpenToGroup() => File.SetUnixFileMode(SocketPath, OwnerAndGroup);
}
