using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using SecureIntake.Server.CommandLine;
using SecureIntake.Web.Listeners;

namespace SecureIntake.Server.Hosting;

/// <summary>
/// The web role's two listeners: `Urls` for the public witness form, `Desk:Urls` for the editors' desk, so that a
/// deployment can put the desk behind an onion service with client authorization or a VPN. Kestrel ignores `Urls`
/// once listeners are bound explicitly, so both settings are read here.
/// </summary>
internal sealed partial class WebListeners(IReadOnlyList<ListenAddress> witness, IReadOnlyList<ListenAddress> desk)
{
    public const string WitnessSetting = "Urls";
    public const string DeskSetting = "Desk:Urls";
    public const string DefaultWitness = "http://127.0.0.1:5080";
    public const string DefaultDesk = "http://127.0.0.1:5081";

    private readonly string _witnessText = string.Join(";", witness);
    private readonly string _deskText = string.Join(";", desk);

    public IReadOnlyList<ListenAddress> Witness { get; } = witness;

    public IReadOnlyList<ListenAddress> Desk { get; } = desk;

    public static WebListeners Read(IConfiguration configuration)
    {
        var witness = Addresses(WitnessSetting, configuration[WitnessSetting] ?? DefaultWitness);
        var desk = Addresses(DeskSetting, configuration[DeskSetting] ?? DefaultDesk);
        foreach (var deskAddress in desk)
        {
            if (witness.FirstOrDefault(deskAddress.Overlaps) is { } shared)
            {
                throw new SettingsException($"{DeskSetting}: '{deskAddress}' meets '{shared}' of {WitnessSetting}; the desk needs an address of its own, " +
                    "so that the witness listener never serves it");
            }
        }

        return new WebListeners(witness, desk);
    }

    public void Bind(KestrelServerOptions kestrel)
    {
        foreach (var address in Witness)
        {
            address.Bind(kestrel, listen => listen.Serve(Audience.Witness));
        }

        foreach (var address in Desk)
        {
            address.Bind(kestrel, listen => listen.Serve(Audience.Desk));
        }
    }

    /// <summary>Before binding: clears sockets a crashed run left at our paths.</summary>
    public void RemoveStaleSockets()
    {
        foreach (var socket in Witness.OfType<UnixSocketAddress>())
        {
            socket.RemoveStale(WitnessSetting);
        }

        foreach (var socket in Desk.OfType<UnixSocketAddress>())
        {
            socket.RemoveStale(DeskSetting);
        }
    }

    /// <summary>Once bound: lets the service's group (Tor, a proxy) connect to its sockets, and says which listener is which.</summary>
    public void Started(ILogger logger)
    {
        foreach (var socket in Witness.Concat(Desk).OfType<UnixSocketAddress>())
        {
            socket.OpenToGroup();
        }

        LogListeners(logger, _witnessText, _deskText);
    }

    private static List<ListenAddress> Addresses(string setting, string value)
    {
        var addresses = value.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(a => ListenAddress.Parse(setting, a)).ToList();
        if (addresses.Count == 0)
        {
            throw new SettingsException($"{setting} must list at least one address, e.g. http://127.0.0.1:5080 or http://unix:/run/secureintake/web.sock");
        }

        for (var i = 0; i < addresses.Count; i++)
        {
            if (addresses.Skip(i + 1).FirstOrDefault(addresses[i].Overlaps) is { } other)
            {
                throw new SettingsException($"{setting}: '{addresses[i]}' and '{other}' cannot both be bound");
            }
        }

        return addresses;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Witness form on {WitnessAddresses}; editors' desk on {DeskAddresses}")]
    private static partial void LogListeners(ILogger logger, string witnessAddresses, string deskAddresses);
}
