using System.Net;
using Microsoft.Extensions.Options;
using SecureIntake.Core.Codenames;
using SecureIntake.Mail.Ingest;

namespace SecureIntake.Mail;

public sealed class MailOptions
{
    public const string Section = "Mail";

    /// <summary>The largest message taken in; larger ones are moved to the quarantine folder on the server.</summary>
    public long MaxMessageBytes { get; set; } = 50L << 20;

    /// <summary>The desk mail goes to (`ingest-mail --desk` overrides it for the MTA pipe).</summary>
    public string Desk { get; set; } = "default";

    public ImapOptions Imap { get; set; } = new();

    public SmtpOptions Smtp { get; set; } = new();

    /// <summary>
    /// Off unless set. A fixed text mailed back to the sender of every tip email. WARNING: a reply confirms to
    /// whoever reads the sender's mailbox (or watches its traffic) that the newsroom received the message.
    /// </summary>
    public string? AcknowledgementText { get; set; }

    public string AcknowledgementSubject { get; set; } = "Received";

    /// <summary>
    /// After acknowledging an address, stay quiet towards it this long (rounded up to the hour), however many
    /// messages name it: one message cannot turn the newsroom into a mail cannon aimed at a third party.
    /// </summary>
    public int AcknowledgementQuietHours { get; set; } = 24;
}

/// <summary>Where editors' notifications are sent from. No host, no notifications.</summary>
public sealed class SmtpOptions
{
    public string? Host { get; set; }

    public int Port { get; set; } = 587;

    /// <summary>starttls (port 587), tls (implicit, port 465), or none: only allowed for a loopback host.</summary>
    public string Security { get; set; } = "starttls";

    public string? User { get; set; }

    /// <summary>Best read from a file named by Mail:Smtp:PasswordFile.</summary>
    public string? Password { get; set; }

    public string From { get; set; } = "";

    /// <summary>The desk's address as editors reach it, for the link in the notification.</summary>
    public string DeskUrl { get; set; } = "";

    /// <summary>Notifications go out on this fixed schedule, so their timing says little about when a witness wrote.</summary>
    public int WindowMinutes { get; set; } = 15;

    public bool Enabled => !string.IsNullOrWhiteSpace(Host);
}

/// <summary>The tips mailbox the gateway drains. No host, no gateway.</summary>
public sealed class ImapOptions
{
    public string? Host { get; set; }

    public int Port { get; set; } = 993;

    /// <summary>tls (implicit, port 993), starttls (port 143), or none: only allowed for a loopback host.</summary>
    public string Security { get; set; } = "tls";

    public string User { get; set; } = "";

    /// <summary>Best read from a file named by Mail:Imap:PasswordFile.</summary>
    public string Password { get; set; } = "";

    public string Folder { get; set; } = "INBOX";

    /// <summary>Where messages over MaxMessageBytes are moved, so they are neither lost nor taken in.</summary>
    public string QuarantineFolder { get; set; } = "Quarantine";

    /// <summary>Move taken-in messages here instead of deleting them (e.g. for a server that must keep mail); empty: delete.</summary>
    public string? MoveToFolder { get; set; }

    /// <summary>How often the mailbox is drained, whether or not IDLE woke the gateway in between.</summary>
    public int IntervalMinutes { get; set; } = 1;

    /// <summary>
    /// The worker keeps one connection to the folder in IMAP IDLE and drains it as soon as the server reports new
    /// mail; the interval pass stays as the fallback (and is all there is on a server without IDLE).
    /// </summary>
    public bool Idle { get; set; } = true;

    /// <summary>A PEM certificate to trust for TLS besides the system's (a newsroom's own mail server).</summary>
    public string? TrustedCertificateFile { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(Host);
}

internal sealed class MailOptionsValidator(IOptions<CodenameOptions> codenames) : IValidateOptions<MailOptions>
{
    public ValidateOptionsResult Validate(string? name, MailOptions options)
    {
        var problems = new List<string>();
        var acknowledging = !string.IsNullOrWhiteSpace(options.AcknowledgementText);
        if ((options.Imap.Enabled || acknowledging) && !MailKeys.IsUsable(codenames.Value.Pepper))
        {
            problems.Add($"{CodenameOptions.Section}:Pepper (or {CodenameOptions.Section}:PepperFile) is needed by the mail gateway and acknowledgements: " +
                "it keys the mail ledger's digests and the remembered acknowledgement addresses");
        }

        if (acknowledging && options.AcknowledgementQuietHours is < 1 or > 24 * 366)
        {
            problems.Add("Mail:AcknowledgementQuietHours must be 1-8784");
        }

        if (options.MaxMessageBytes < 1024)
        {
            problems.Add("Mail:MaxMessageBytes must be at least 1024");
        }

        var imap = options.Imap;
        if (imap.Enabled)
        {
            if (imap.Security is not ("tls" or "starttls" or "none"))
            {
                problems.Add("Mail:Imap:Security must be tls, starttls or none");
            }
            else if (imap.Security == "none" && !IsLoopback(imap.Host!))
            {
                problems.Add("Mail:Imap:Security=none sends the mailbox password and every tip in the clear: it is only allowed for a loopback host");
            }

            if (string.IsNullOrEmpty(imap.User) || string.IsNullOrEmpty(imap.Password))
            {
                problems.Add("Mail:Imap:User and Mail:Imap:Password (or Mail:Imap:PasswordFile) are required when Mail:Imap:Host is set");
            }

            if (imap.Port is < 1 or > 65535 || imap.IntervalMinutes is < 1 or > 59)
            {
                problems.Add("Mail:Imap:Port must be 1-65535 and Mail:Imap:IntervalMinutes 1-59");
            }

            if (imap.TrustedCertificateFile is { Length: > 0 } file && !File.Exists(file))
            {
                problems.Add($"Mail:Imap:TrustedCertificateFile '{file}' does not exist");
            }
        }

        var smtp = options.Smtp;
        if (!string.IsNullOrWhiteSpace(options.AcknowledgementText) && !smtp.Enabled)
        {
            problems.Add("Mail:AcknowledgementText needs Mail:Smtp:Host to send it");
        }

        if (smtp.Enabled)
        {
            if (smtp.Security is not ("tls" or "starttls" or "none"))
            {
                problems.Add("Mail:Smtp:Security must be tls, starttls or none");
            }
            else if (smtp.Security == "none" && !IsLoopback(smtp.Host!))
            {
                problems.Add("Mail:Smtp:Security=none is only allowed for a loopback host");
            }

            if (!smtp.From.Contains('@', StringComparison.Ordinal))
            {
                problems.Add("Mail:Smtp:From must be the address notifications come from");
            }

            if (smtp.WindowMinutes is < 1 or > 59 || smtp.Port is < 1 or > 65535)
            {
                problems.Add("Mail:Smtp:WindowMinutes must be 1-59 and Mail:Smtp:Port 1-65535");
            }
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    private static bool IsLoopback(string host) =>
        host == "localhost" || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
}
