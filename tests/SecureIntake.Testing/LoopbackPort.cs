using System.Net;
using System.Net.Sockets;

namespace SecureIntake.Testing;

/// <summary>Ports for the throwaway servers the tests start, on loopback only.</summary>
public static class LoopbackPort
{
    /// <summary>
    /// A port the kernel just handed out and released. Another process may take it before the server binds it,
    /// so fixtures that use this retry their start when the bind fails.
    /// </summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
