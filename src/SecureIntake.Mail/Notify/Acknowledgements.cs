using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MimeKit;

namespace SecureIntake.Mail.Notify;

/// <summary>
/// The optional fixed reply to the sender of a tip email, off by default (see Mail:AcknowledgementText and its
/// warning). The sender's address is used once, from memory, and never stored; a failed acknowledgement is
/// logged without it and never holds up intake.
/// </summary>
public sealed partial class Acknowledgements(IOptions<MailOptions> options, ILogger<Acknowledgements> logger)
{
    private readonly MailOptions _options = options.Value;

    public async Task SendAsync(string? sender, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(_options.AcknowledgementText) || sender is null || !MailboxAddress.TryParse(sender, out var to))
        {
            return;
        }

        var message = new MimeMessage { Subject = _options.AcknowledgementSubject, Body = new TextPart("plain") { Text = _options.AcknowledgementText } };
        message.From.Add(MailboxAddress.Parse(_options.Smtp.From));
        message.To.Add(to);
        message.Headers.Add(HeaderId.AutoSubmitted, "auto-replied"); // RFC 3834: other responders do not answer it
        try
        {
            using var client = await SmtpConnection.OpenAsync(_options.Smtp, TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
            await client.SendAsync(message, cancellationToken).ConfigureAwait(false);
            await client.DisconnectAsync(quit: true, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (SmtpConnection.IsSendFailure(e))
        {
            LogFailed(logger, e.GetType().Name);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "An acknowledgement could not be sent ({Kind})")]
    private static partial void LogFailed(ILogger logger, string kind);
}
