using System.Globalization;
using System.Text;
using Hangfire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MimeKit;
using Npgsql;
using Org.BouncyCastle.Bcpg;
using SecureIntake.Core.Editors;
using SecureIntake.Core.Intake;
using SecureIntake.Core.Recipients;
using SecureIntake.Core.Status;
using SecureIntake.Crypto.Encryption;
using SecureIntake.Crypto.Keys;

namespace SecureIntake.Mail.Notify;

/// <summary>
/// Tells editors about new activity, on a fixed schedule: per desk, how many new submissions and follow-ups,
/// and a link to the desk, never any content. The mail is PGP/MIME-encrypted to the editor's own key; an
/// editor without a usable key gets a generic notice with no counts. Counts are taken off only after the
/// mails went out, so a failed send is retried with the next window (and shown on the desk).
/// </summary>
public sealed partial class EditorNotifications(IOptions<MailOptions> options, NpgsqlDataSource dataSource, EditorStore editors, RecipientStore recipients,
    ServiceStatus status, TimeProvider clock, ILogger<EditorNotifications> logger)
{
    public const string Component = "notifications";

    private readonly SmtpOptions _smtp = options.Value.Smtp;

    [AutomaticRetry(Attempts = 0)]
    [DisableConcurrentExecution(timeoutInSeconds: 60)]
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        if (!_smtp.Enabled)
        {
            return 0;
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var pending = await PendingNotifications.LockDueAsync(connection, transaction, cancellationToken).ConfigureAwait(false);

        var people = await editors.NotificationRecipientsAsync(cancellationToken).ConfigureAwait(false);
        if (pending.Count == 0 || people.Count == 0)
        {
            return 0;
        }

        var summary = Summary(pending);
        var keys = await recipients.ListAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var client = await SmtpConnection.OpenAsync(_smtp, TimeSpan.FromMinutes(1), cancellationToken).ConfigureAwait(false);

            foreach (var (_, email, fingerprint) in people)
            {
                var key = keys.FirstOrDefault(k => k.Fingerprint == fingerprint && k.Verdict.Key is not null)?.Verdict.Key;
                await client.SendAsync(await MessageAsync(email, key, summary, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            }

            await client.DisconnectAsync(quit: true, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (SmtpConnection.IsSendFailure(e))
        {
            await transaction.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
            await status.FailedAsync(Component, $"{e.GetType().Name}: {e.Message}", CancellationToken.None).ConfigureAwait(false);
            LogFailed(logger, e.GetType().Name, e.Message);
            return 0;
        }

        foreach (var desk in pending)
        {
            await PendingNotifications.ToldAsync(connection, transaction, desk, cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        await status.SucceededAsync(Component, cancellationToken).ConfigureAwait(false);
        return people.Count;
    }

    private string Summary(IReadOnlyList<PendingDesk> pending)
    {
        var text = new StringBuilder("New activity on the SecureIntake desk:\r\n\r\n");
        foreach (var (_, desk, count, followUps) in pending)
        {
            text.Append(CultureInfo.InvariantCulture, $"  desk {desk}: {count} new submission(s), {followUps} follow-up(s) from witnesses\r\n");
        }

        return text.Append(CultureInfo.InvariantCulture, $"\r\nSign in to read them: {_smtp.DeskUrl}\r\n").ToString();
    }

    /// <summary>PGP/MIME (RFC 3156) to the editor's key; without a usable key, a notice that says only that there is something.</summary>
    private async Task<MimeMessage> MessageAsync(string to, RecipientKey? key, string summary, CancellationToken cancellationToken)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(_smtp.From));
        message.To.Add(MailboxAddress.Parse(to));
        message.Subject = "SecureIntake: new activity on the desk";
        message.Date = clock.GetUtcNow();
        if (key is null)
        {
            message.Body = new TextPart("plain")
            {
                Text = $"There is new activity on the SecureIntake desk. Sign in to see it: {_smtp.DeskUrl}\r\n\r\n" +
                    "(This notice says no more because no usable OpenPGP key of yours is on file to encrypt details to.)\r\n",
            };
            return message;
        }

        // The encrypted payload is itself a MIME part, so mail programs show it as a normal text mail once decrypted.
        var inner = Encoding.UTF8.GetBytes($"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{summary}");
        var armored = new MemoryStream();
        using (var armor = new ArmoredOutputStream(armored))
        {
            await using var encrypting = await OpenPgpEncryptingStream.OpenAsync(armor, [key], cancellationToken).ConfigureAwait(false);
            await encrypting.WriteAsync(inner, cancellationToken).ConfigureAwait(false);
            await encrypting.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }

        var encrypted = new Multipart("encrypted");
        encrypted.ContentType.Parameters["protocol"] = "application/pgp-encrypted";
        encrypted.Add(new MimePart("application", "pgp-encrypted") { Content = new MimeContent(new MemoryStream("Version: 1\r\n"u8.ToArray())) });
        encrypted.Add(new MimePart("application", "octet-stream")
        {
            Content = new MimeContent(new MemoryStream(armored.ToArray())),
            ContentDisposition = new ContentDisposition(ContentDisposition.Inline) { FileName = "encrypted.asc" },
        });
        message.Body = encrypted;
        return message;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Notifications could not be sent ({Kind}: {Reason}); they go with the next window")]
    private static partial void LogFailed(ILogger logger, string kind, string reason);
}
