using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using MimeKit;
using Npgsql;
using SecureIntake.Core.Storage;
using SecureIntake.Mail.Notify;

namespace SecureIntake.Mail.Ingest;

/// <summary>
/// Decides whether the optional acknowledgement may go out (RFC 3834): never in answer to automatic mail, list
/// mail or bounces, never to a null sender, and at most once per address within Mail:AcknowledgementQuietHours,
/// so it can neither loop with another responder nor be aimed at a third party as a flood. The address is
/// remembered only as an HMAC under a key derived from the pepper, next to the hour its quiet period ends.
/// </summary>
public sealed class AcknowledgementGuard(IOptions<MailOptions> options, MailKeys keys, NpgsqlDataSource dataSource, Acknowledgements acknowledgements,
    TimeProvider clock)
{
    private static readonly string[] ListHeaders = ["List-Id", "List-Unsubscribe", "List-Post", "List-Help", "List-Subscribe", "List-Owner", "List-Archive"];

    private static readonly string[] BounceLocalParts = ["mailer-daemon", "postmaster", "listserv", "majordomo", "noreply", "no-reply", "donotreply", "do-not-reply"];

    private readonly MailOptions _options = options.Value;

    /// <summary>Sends the acknowledgement for a committed message if it is turned on and every rule allows it.</summary>
    public async Task SendAsync(IngestResult result, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (string.IsNullOrWhiteSpace(_options.AcknowledgementText) || result.Outcome != IngestOutcome.Committed || result.Sender is null
            || !await IsFirstInQuietPeriodAsync(result.Sender, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        await acknowledgements.SendAsync(result.Sender, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The address an acknowledgement would go to (Reply-To, else From), judged from the message's headers; null
    /// when the message is automatic, list or bounce mail, has a null return path, or names no usable address.
    /// </summary>
    internal static string? Addressee(HeaderList? headers)
    {
        if (headers is null)
        {
            return null;
        }

        if (headers[HeaderId.AutoSubmitted] is { } autoSubmitted
            && !string.Equals(autoSubmitted.Split(';', 2)[0].Trim(), "no", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (ListHeaders.Any(h => headers.Contains(h))
            || headers[HeaderId.Precedence]?.Trim().ToLowerInvariant() is "bulk" or "list" or "junk")
        {
            return null;
        }

        // Delivery reports (bounces, read receipts) are answered by nobody.
        if (headers[HeaderId.ContentType] is { } type && ContentType.TryParse(type, out var contentType) && contentType.IsMimeType("multipart", "report"))
        {
            return null;
        }

        // The envelope sender as the delivering MTA wrote it: <> is a bounce or another automatic message.
        if (headers[HeaderId.ReturnPath] is { } returnPath && IsNull(returnPath))
        {
            return null;
        }

        var addressee = FirstAddress(headers[HeaderId.ReplyTo]) ?? FirstAddress(headers[HeaderId.From]);
        var senders = new[] { addressee, FirstAddress(headers[HeaderId.From]), FirstAddress(headers[HeaderId.Sender]), FirstAddress(headers[HeaderId.ReturnPath]) };
        return addressee is null || senders.Any(IsBounceLike) ? null : addressee;
    }

    /// <summary>One form per mailbox: case, sub-addresses (user+tag) and IDN spelling would otherwise each earn another reply.</summary>
    internal static string Normalize(string address)
    {
        var at = address.LastIndexOf('@');
        var local = (at < 0 ? address : address[..at]).Trim().ToLowerInvariant();
        var plus = local.IndexOf('+', StringComparison.Ordinal);
        if (plus > 0)
        {
            local = local[..plus];
        }

        if (at < 0)
        {
            return local;
        }

        var domain = address[(at + 1)..].Trim().TrimEnd('.');
        try
        {
            domain = new IdnMapping().GetAscii(domain);
        }
        catch (ArgumentException)
        {
            // Not a valid IDN: compared as written.
        }

        return $"{local}@{domain.ToLowerInvariant()}";
    }

    /// <summary>Claims the address's quiet period in one statement, so two messages at once still earn one reply.</summary>
    private async Task<bool> IsFirstInQuietPeriodAsync(string address, CancellationToken cancellationToken)
    {
        var mac = HMACSHA256.HashData(keys.AcknowledgedKey, Encoding.UTF8.GetBytes(Normalize(address)));
        var now = clock.GetUtcNow();
        // Kept to the hour: the row says when a reply was allowed again, not when a witness wrote.
        var end = now.AddHours(_options.AcknowledgementQuietHours);
        var quietUntil = new DateTimeOffset(end.Year, end.Month, end.Day, end.Hour, 0, 0, TimeSpan.Zero).AddHours(1);
        await dataSource.ExecuteAsync("DELETE FROM acknowledged_senders WHERE quiet_until <= @Now", new { Now = now }, cancellationToken).ConfigureAwait(false);
        return await dataSource.ScalarAsync<bool?>("""
            INSERT INTO acknowledged_senders (sender_mac, quiet_until) VALUES (@Mac, @QuietUntil)
            ON CONFLICT (sender_mac) DO UPDATE SET quiet_until = EXCLUDED.quiet_until WHERE acknowledged_senders.quiet_until <= @Now
            RETURNING true
            """, new { Mac = mac, QuietUntil = quietUntil, Now = now }, cancellationToken).ConfigureAwait(false) == true;
    }

    private static bool IsNull(string path)
    {
        var trimmed = path.Trim();
        return trimmed.Length == 0 || trimmed.Replace(" ", "", StringComparison.Ordinal) == "<>";
    }

    private static string? FirstAddress(string? value) =>
        value is not null && InternetAddressList.TryParse(value, out var list) && list.Mailboxes.FirstOrDefault()?.Address is { Length: > 0 } address
            ? address
            : null;

    private static bool IsBounceLike(string? address)
    {
        if (address is null)
        {
            return false;
        }

        var local = Normalize(address).Split('@')[0];
        return BounceLocalParts.Contains(local, StringComparer.Ordinal) || local.StartsWith("owner-", StringComparison.Ordinal)
            || local.EndsWith("-request", StringComparison.Ordinal) || local.EndsWith("-bounces", StringComparison.Ordinal);
    }
}
