using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace SecureIntake.Server.Hosting;

/// <summary>http://IP:PORT, or http://localhost:PORT (null <see cref="Ip"/>: both loopback addresses).</summary>
internal sealed record TcpAddress(string Text, IPAddress? Ip, int Port) : ListenAddress(Text)
{
    private static readonly IPAddress[] LocalhostAddresses = [IPAddress.Loopback, IPAddress.IPv6Loopback];

    public override void Bind(KestrelServerOptions kestrel, Action<ListenOptions> configure)
    {
        if (Ip is null)
        {
            kestrel.ListenLocalhost(Port, configure);
        }
        else
        {
            kestrel.Listen(Ip, Port, configure);
        }
    }

    public override bool Overlaps(ListenAddress other) =>
        other is TcpAddress tcp && tcp.Port == Port && (IsAny || tcp.IsAny || Addresses.Intersect(tcp.Addresses).Any());

    // [::] takes IPv4 too (dual stack), so either wildcard meets every address on its port.
    private bool IsAny => Ip is not null && (Ip.Equals(IPAddress.Any) || Ip.Equals(IPAddress.IPv6Any));

    private IPAddress[] Addresses => Ip is null ? LocalhostAddresses : [Ip];
}
