using MailKit.Net.Smtp;
using MailKit.Security;
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

        var smtp = _options.Smtp;
        var message = new MimeMessage { Subject = _options.AcknowledgementSubject, Body = new TextPart("plain") { Text = _options.AcknowledgementText } };
        message.From.Add(MailboxAddress.Parse(smtp.From));
        message.To.Add(to);
        try
        {
            using var client = new SmtpClient { Timeout = (int)TimeSpan.FromSeconds(30).TotalMilliseconds };
            var security = smtp.Security switch
            {
                "tls" => SecureSocketOptions.SslOnConnect,
                "none" => SecureSocketOptions.None,
                _ => SecureSocketOptions.StartTls,
            };
            await client.ConnectAsync(smtp.Host!, smtp.Port, security, cancellationToken).ConfigureAwait(false);
            if (!string.IsNullOrEmpty(smtp.User))
            {
                await client.AuthenticateAsync(smtp.User, smtp.Password ?? "", cancellationToken).ConfigureAwait(false);
            }

            await client.SendAsync(message, cancellationToken).ConfigureAwait(false);
            await client.DisconnectAsync(quit: true, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or TimeoutException or SmtpCommandException or SmtpProtocolException
            or AuthenticationException or SslHandshakeException)
        {
            LogFailed(logger, e.GetType().Name);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "An acknowledgement could not be sent ({Kind})")]
    private static partial void LogFailed(ILogger logger, string kind);
}
