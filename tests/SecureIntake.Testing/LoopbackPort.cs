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

    /// <summary>
    /// A port that refuses connections for as long as the result is held: bound but not listening, so no other
    /// process can take it, as one could take a port from <see cref="Free"/> and answer on it.
    /// </summary>
    public static RefusingPort Refusing()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return new RefusingPort(socket);
    }
}

public sealed class RefusingPort(Socket socket) : IDisposable
{
    public int Port { get; } = ((IPEndPoint)socket.LocalEndPoint!).Port;

    public void Dispose() => socket.Dispose();
}
