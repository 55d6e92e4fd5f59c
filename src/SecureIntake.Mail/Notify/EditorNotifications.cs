using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Hangfire;
using MailKit.Net.Smtp;
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
/// Tells editors about new activity on a fixed schedule: at every window, one mail to every editor with an address,
/// with the same subject and size whether or not anything arrived (unless Mail:Notify:SendWhenNothingNew is off).
/// The per-desk counts, only for the desks the editor belongs to (every desk for an admin), are inside a PGP/MIME
/// body padded to a fixed size; an editor without a usable key gets a fixed notice with no counts. The counts are
/// read without a lock, the mails sent, and only then is what was told taken off: a failed send leaves every count
/// for the next window, and what arrives during a send is told the next time.
/// </summary>
public sealed partial class EditorNotifications(IOptions<MailOptions> options, IOptions<NotifyOptions> notifyOptions, NpgsqlDataSource dataSource,
    EditorStore editors, DeskMembership membership, RecipientStore recipients, ServiceStatus status, TimeProvider clock,
    ILogger<EditorNotifications> logger)
{
    public const string Component = "notifications";

    /// <summary>The one subject every notification carries, news or not.</summary>
    public const string Subject = "SecureIntake: desk notification";

    private readonly SmtpOptions _smtp = options.Value.Smtp;
    private readonly NotifyOptions _notify = notifyOptions.Value;

    /// <summary>Sends this window's notifications; returns how many went out.</summary>
    // No DisableConcurrentExecution: a run stuck on a silent server would make the next one wait and then fail;
    // the run lock below lets the next window see that and step aside.
    [AutomaticRetry(Attempts = 0)]
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        if (!_smtp.Enabled)
        {
            return 0;
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        if (!await PendingNotifications.TryBeginRunAsync(connection, cancellationToken).ConfigureAwait(false))
        {
            LogBusy(logger);
            return 0;
        }

        try
        {
            return await SendWindowAsync(connection, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            try
            {
                await PendingNotifications.EndRunAsync(connection, CancellationToken.None).ConfigureAwait(false);
            }
            catch (NpgsqlException)
            {
                // A broken connection already ended the session, and the run lock with it.
            }
        }
    }

    private async Task<int> SendWindowAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var pending = await PendingNotifications.ReadAsync(connection, cancellationToken).ConfigureAwait(false);
        var people = await RecipientsAsync(pending, cancellationToken).ConfigureAwait(false);
        var due = _notify.SendWhenNothingNew ? people : people.Where(p => p.Desks.Any(d => d.HasNews)).ToList();
        if (due.Count == 0)
        {
            return 0;
        }

        var sent = new HashSet<Recipient>();
        var refused = new List<Recipient>();
        Exception? failure = null;
        try
        {
            using var client = await SmtpConnection.OpenAsync(_smtp, TimeSpan.FromSeconds(_notify.SmtpTimeoutSeconds), cancellationToken).ConfigureAwait(false);
            foreach (var person in due)
            {
                try
                {
                    await client.SendAsync(await MessageAsync(person, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
                    sent.Add(person);
                }
                catch (SmtpCommandException e) when (e.ErrorCode == SmtpErrorCode.RecipientNotAccepted)
                {
                    // One editor's address must not cost every other editor their mail. Refused for good (5xx): that editor
                    // can never be told through it, so it does not hold their desks' counts either; for now (4xx): the
                    // counts wait for the next window. Either way the desk shows it below.
                    if ((int)e.StatusCode >= 500)
                    {
                        refused.Add(person);
                    }

                    failure ??= e;
                }
            }

            try
            {
                await client.DisconnectAsync(quit: true, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (SmtpConnection.IsSendFailure(e))
            {
                // Every message was accepted already; a lost QUIT changes nothing.
            }
        }
        catch (Exception e) when (SmtpConnection.IsSendFailure(e))
        {
            failure = e;
        }

        // A desk's counts come off only when every editor who sees it got this window's mail: no one is left untold,
        // and those already told are not told the same arrivals again, whatever the failure.
        var told = pending.Where(d => due.Any(p => p.Sees(d)) && due.Where(p => p.Sees(d)).All(p => sent.Contains(p) || refused.Contains(p))).ToList();
        await PendingNotifications.ToldAsync(connection, told, CancellationToken.None).ConfigureAwait(false);

        if (failure is not null)
        {
            var reason = refused.Count > 0
                ? $"the mail server refused the notification address of {string.Join(", ", refused.Select(p => p.Name))} ({failure.Message}); correct it on the editors page"
                : $"{failure.GetType().Name}: {failure.Message}";
            await status.FailedAsync(Component, reason, CancellationToken.None).ConfigureAwait(false);
            LogFailed(logger, failure.GetType().Name, failure.Message, sent.Count, due.Count);
            return sent.Count;
        }

        await status.SucceededAsync(Component, cancellationToken).ConfigureAwait(false);
        return sent.Count;
    }

    /// <summary>Active editors with an address, each with the desks they see: their own, or every desk for an admin.</summary>
    private async Task<IReadOnlyList<Recipient>> RecipientsAsync(IReadOnlyList<PendingDesk> pending, CancellationToken cancellationToken)
    {
        var people = await editors.NotificationRecipientsAsync(cancellationToken).ConfigureAwait(false);
        if (people.Count == 0)
        {
            return [];
        }

        var admins = (await editors.ListAsync(cancellationToken).ConfigureAwait(false)).Where(e => e.Role == EditorRole.Admin).Select(e => e.Name)
            .ToHashSet(StringComparer.Ordinal);
        var members = await membership.AllAsync(cancellationToken).ConfigureAwait(false);
        var keys = await recipients.ListAsync(cancellationToken).ConfigureAwait(false);
        return people.Select(p => new Recipient(p.Name, p.Email,
            keys.FirstOrDefault(k => k.Fingerprint == p.KeyFingerprint && k.Verdict.Key is not null)?.Verdict.Key,
            admins.Contains(p.Name) ? pending
                : members.TryGetValue(p.Name, out var desks) ? pending.Where(d => desks.Contains(d.Desk, StringComparer.Ordinal)).ToList()
                : [])).ToList();
    }

    /// <summary>The counts of the recipient's desks, padded to exactly Mail:Notify:PaddedBytes.</summary>
    private byte[] Body(IReadOnlyList<PendingDesk> desks)
    {
        const string Head = "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n";
        var list = new StringBuilder(Head).Append("What witnesses sent to your desks since the last notification:\r\n\r\n");
        foreach (var (_, desk, count, followUps) in desks)
        {
            list.Append(CultureInfo.InvariantCulture, $"  desk {desk}: {count} new submission(s), {followUps} follow-up(s) from witnesses\r\n");
        }

        if (desks.Count == 0)
        {
            list.Append("  (you are not a member of any desk)\r\n");
        }

        var footer = $"\r\nSign in to read them: {_smtp.DeskUrl}\r\n";
        var text = Encoding.UTF8.GetBytes(list.Append(footer).ToString());
        if (text.Length > _notify.PaddedBytes)
        {
            // Too many desks to list within the fixed size: totals only, still padded to the same size.
            text = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
                $"{Head}On your {desks.Count} desks (too many to list here), since the last notification: {desks.Sum(d => (long)d.NewSubmissions)} new submission(s), {desks.Sum(d => (long)d.FollowUps)} follow-up(s) from witnesses.\r\n{footer}"));
            if (text.Length > _notify.PaddedBytes)
            {
                throw new InvalidOperationException("Mail:Notify:PaddedBytes is too small for even the totals and Mail:Smtp:DeskUrl; raise it");
            }
        }

        return Pad(text, _notify.PaddedBytes);
    }

    /// <summary>Trailing lines of spaces (each under 80 bytes, so no mail program chokes on them) up to exactly <paramref name="size"/> bytes.</summary>
    private static byte[] Pad(byte[] text, int size)
    {
        var padded = new byte[size];
        text.CopyTo(padded, 0);
        var at = text.Length;
        while (at < size)
        {
            var line = Math.Min(size - at, 78);
            padded.AsSpan(at, line).Fill((byte)' ');
            if (line >= 2)
            {
                padded[at + line - 2] = (byte)'\r';
                padded[at + line - 1] = (byte)'\n';
            }

            at += line;
        }

        return padded;
    }

    /// <summary>PGP/MIME (RFC 3156) to the editor's key; without a usable key, a fixed notice that says nothing of what arrived.</summary>
    private async Task<MimeMessage> MessageAsync(Recipient person, CancellationToken cancellationToken)
    {
        var from = MailboxAddress.Parse(_smtp.From);
        var message = new MimeMessage
        {
            // MimeKit's own Message-Id varies in length from one mail to the next; this one never does.
            MessageId = $"{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16))}@{from.Domain}",
        };
        message.From.Add(from);
        message.To.Add(MailboxAddress.Parse(person.Email));
        message.Subject = Subject;
        message.Date = clock.GetUtcNow();
        if (person.Key is not { } key)
        {
            message.Body = new TextPart("plain")
            {
                Text = $"This is your scheduled SecureIntake notification. Sign in to see whether anything is new: {_smtp.DeskUrl}\r\n\r\n" +
                    "(It says no more because no usable OpenPGP key of yours is on file to encrypt details to.)\r\n",
            };
            return message;
        }

        // The encrypted payload is itself a MIME part, so mail programs show it as a normal text mail once decrypted.
        var armored = new MemoryStream();
        using (var armor = new ArmoredOutputStream(armored))
        {
            await using var encrypting = await OpenPgpEncryptingStream.OpenAsync(armor, [key], cancellationToken).ConfigureAwait(false);
            await encrypting.WriteAsync(Body(person.Desks), cancellationToken).ConfigureAwait(false);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Notifications could not all be sent ({Kind}: {Reason}); {Sent} of {Due} went out, the rest go with the next window")]
    private static partial void LogFailed(ILogger logger, string kind, string reason, int sent, int due);

    [LoggerMessage(Level = LogLevel.Information, Message = "Another notification run is still sending; this window is left to it")]
    private static partial void LogBusy(ILogger logger);

    private sealed record Recipient(string Name, string Email, RecipientKey? Key, IReadOnlyList<PendingDesk> Desks)
    {
        public bool Sees(PendingDesk desk) => Desks.Any(d => d.DeskId == desk.DeskId);
    }
}
