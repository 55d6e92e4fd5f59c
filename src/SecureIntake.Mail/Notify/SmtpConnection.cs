using MailKit.Net.Smtp;
using MailKit.Security;

namespace SecureIntake.Mail.Notify;

/// <summary>One way to reach the configured SMTP server, for notifications and acknowledgements alike.</summary>
internal static class SmtpConnection
{
    public static async Task<SmtpClient> OpenAsync(SmtpOptions smtp, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var client = new SmtpClient { Timeout = (int)timeout.TotalMilliseconds };
        try
        {
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

            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>Failures of the mail server or the way to it, as opposed to bugs.</summary>
    public static bool IsSendFailure(Exception e) =>
        e is IOException or System.Net.Sockets.SocketException or TimeoutException or SmtpCommandException or SmtpProtocolException
            or AuthenticationException or SslHandshakeException;
}
