using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace SecureIntake.Web.Listeners;

/// <summary>Who a listener serves. The public witness form and the editors' desk never share one.</summary>
public enum Audience
{
    Witness,
    Desk,
}

/// <summary>
/// Marks every connection a listener accepts with its audience. The mark is set by Kestrel from the socket the
/// connection came in on, so nothing a client sends (the Host header least of all) can move a request to the other side.
/// </summary>
public static class AudienceListeners
{
    // A private key object: no header, route value or other component can write this item.
    private static readonly object AudienceKey = new();

    public static ListenOptions Serve(this ListenOptions listen, Audience audience)
    {
        ArgumentNullException.ThrowIfNull(listen);
        listen.Use(next => connection =>
        {
            connection.Items[AudienceKey] = audience;
            return next(connection);
        });
        return listen;
    }

    /// <summary>The audience of the listener the request's connection came in on; null for a listener we did not mark.</summary>
    internal static Audience? Of(HttpContext context) =>
        context.Features.Get<IConnectionItemsFeature>()?.Items.TryGetValue(AudienceKey, out var value) == true && value is Audience audience ? audience : null;
}
