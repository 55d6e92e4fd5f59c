using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using SecureIntake.Core.Intake;
using SecureIntake.Core.Status;
using SecureIntake.Mail.Ingest;
using SecureIntake.Testing;

namespace SecureIntake.Mail.Tests;

/// <summary>The gateway against a real Dovecot on loopback: every message in once, none left on the server, none twice.</summary>
public sealed class ImapGatewayTests : IAsyncLifetime
{
    private MailTestBed _bed = null!;
    private DovecotServer _dovecot = null!;

    public async Task InitializeAsync()
    {
        _bed = await MailTestBed.CreateAsync();
        _dovecot = await DovecotServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _dovecot.DisposeAsync();
        await _bed.DisposeAsync();
    }

    [Fact]
    public async Task Each_message_is_taken_in_whole_and_encrypted_and_the_mailbox_is_left_empty()
    {
        var plain = Message("Свидетель", "Стреляли у акимата в 14:10.");
        var pgp = Encoding.ASCII.GetBytes("From: a@example.invalid\r\nSubject: x\r\nContent-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"b\"\r\n\r\n" +
            "--b\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n--b\r\nContent-Type: application/octet-stream\r\n\r\n" +
            "-----BEGIN PGP MESSAGE-----\r\n\r\nhQEMA0000\r\n-----END PGP MESSAGE-----\r\n--b--\r\n");
        var malformed = Encoding.ASCII.GetBytes("From: broken\r\nContent-Type: multipart/mixed; boundary=\r\n\r\n--\r\nno headers and no end\r\n");
        foreach (var message in new[] { plain, pgp, malformed })
        {
            await _dovecot.DeliverAsync(message);
        }

        await using var services = _bed.Services(Settings());
        await services.GetRequiredService<ImapGateway>().RunAsync(CancellationToken.None);

        Assert.Equal(0, await _dovecot.CountAsync());
        Assert.Equal(3L, await _bed.ScalarAsync<long>("SELECT count(*) FROM submissions WHERE channel = 'mail'"));
        Assert.Equal(0L, await _bed.ScalarAsync<long>("SELECT count(*) FROM mail_messages"));
        // Each email is its submission's one item, with no manifest beside it: the sender's own encryption is the editors'
        // tool's to notice once it decrypted the email.
        var plaintexts = await _bed.DecryptAllAsync();
        Assert.Equal(3, plaintexts.Count);
        foreach (var message in new[] { plain, pgp, malformed })
        {
            Assert.Contains(plaintexts, p => p.AsSpan().SequenceEqual(message));
        }

        Assert.Equal(["email"], await _bed.ColumnAsync<string>("SELECT DISTINCT kind FROM submission_items"));
        var statuses = await services.GetRequiredService<ServiceStatus>().ListAsync(CancellationToken.None);
        Assert.Contains(statuses, s => s.Component == ImapGateway.Component && s.SucceededAt is not null && s.FailuresInARow == 0);
    }

    [Fact]
    public async Task With_move_to_folder_each_message_is_taken_in_once_and_moved_to_a_folder_made_for_it()
    {
        var messages = new[] { Message("w", "first"), Message("w", "second") };
        foreach (var message in messages)
        {
            await _dovecot.DeliverAsync(message);
        }

        await using var services = _bed.Services(Settings(("Mail:Imap:MoveToFolder", "Processed")));
        await services.GetRequiredService<ImapGateway>().RunAsync(CancellationToken.None);
        await services.GetRequiredService<ImapGateway>().RunAsync(CancellationToken.None);

        Assert.Equal(0, await _dovecot.CountAsync());
        Assert.Equal(2, await _dovecot.CountAsync("Processed"));
        Assert.Equal(2L, await _bed.ScalarAsync<long>("SELECT count(*) FROM submissions"));
        Assert.Equal(0L, await _bed.ScalarAsync<long>("SELECT count(*) FROM mail_messages"));
        var plaintexts = await _bed.DecryptAllAsync();
        foreach (var message in messages)
        {
            Assert.Single(plaintexts, p => p.AsSpan().SequenceEqual(message));
        }
    }

    [Fact]
    public async Task A_crash_between_commit_and_removal_does_not_take_the_message_in_twice()
    {
        var message = Message("w", "once only");
        await _dovecot.DeliverAsync(message);
        await using var services = _bed.Services(Settings());

        // What a crash right after the commit leaves: the submission and its ledger row, the message still on the server.
        await CommitAsIfTheGatewayCrashedAsync(services, message, uidValidity: await UidValidityAsync(), uid: 1);
        await services.GetRequiredService<ImapGateway>().RunAsync(CancellationToken.None);

        Assert.Equal(0, await _dovecot.CountAsync());
        Assert.Equal(1L, await _bed.ScalarAsync<long>("SELECT count(*) FROM submissions"));
        Assert.Equal(0L, await _bed.ScalarAsync<long>("SELECT count(*) FROM mail_messages"));
    }

    [Fact]
    public async Task A_mailbox_renumbered_after_a_crash_is_matched_by_digest_and_nothing_comes_in_twice()
    {
        var message = Message("w", "renumbered");
        await _dovecot.DeliverAsync(message);
        await _dovecot.DeliverAsync(Message("w", "a new one"));
        await using var services = _bed.Services(Settings());

        // Committed under an older UIDVALIDITY: the server has since renumbered everything.
        await CommitAsIfTheGatewayCrashedAsync(services, message, uidValidity: 1, uid: 4242);
        await services.GetRequiredService<ImapGateway>().RunAsync(CancellationToken.None);

        Assert.Equal(0, await _dovecot.CountAsync());
        Assert.Equal(2L, await _bed.ScalarAsync<long>("SELECT count(*) FROM submissions"));
        Assert.Equal(0L, await _bed.ScalarAsync<long>("SELECT count(*) FROM mail_messages"));
    }

    [Fact]
    public async Task Two_gateways_at_once_take_each_message_exactly_once()
    {
        for (var i = 0; i < 6; i++)
        {
            await _dovecot.DeliverAsync(Message("w", $"message {i}"));
        }

        await using var first = _bed.Services(Settings());
        await using var second = _bed.Services(Settings());
        await Task.WhenAll(
            first.GetRequiredService<ImapGateway>().RunAsync(CancellationToken.None),
            second.GetRequiredService<ImapGateway>().RunAsync(CancellationToken.None));
        await first.GetRequiredService<ImapGateway>().RunAsync(CancellationToken.None); // whatever the locked-out one left

        Assert.Equal(0, await _dovecot.CountAsync());
        Assert.Equal(6L, await _bed.ScalarAsync<long>("SELECT count(*) FROM submissions"));
    }

    [Fact]
    public async Task A_message_over_the_limit_is_moved_to_quarantine_and_reported_never_lost()
    {
        await _dovecot.DeliverAsync(Message("w", new string('x', 20_000)));
        await _dovecot.DeliverAsync(Message("w", "small"));
        await using var services = _bed.Services(Settings(("Mail:MaxMessageBytes", "10000")));

        await services.GetRequiredService<ImapGateway>().RunAsync(CancellationToken.None);

        Assert.Equal(0, await _dovecot.CountAsync());
        Assert.Equal(1, await _dovecot.CountAsync("Quarantine"));
        Assert.Equal(1L, await _bed.ScalarAsync<long>("SELECT count(*) FROM submissions"));
        var status = (await services.GetRequiredService<ServiceStatus>().ListAsync(CancellationToken.None)).Single();
        Assert.Equal(1, status.Quarantined);
    }

    [Fact]
    public async Task An_empty_message_is_set_aside_in_quarantine_and_does_not_block_the_ones_after_it()
    {
        await _dovecot.DeliverAsync([]);
        await _dovecot.DeliverAsync(Message("w", "after the empty one"));
        await using var services = _bed.Services(Settings());

        await services.GetRequiredService<ImapGateway>().RunAsync(CancellationToken.None);

        Assert.Equal(0, await _dovecot.CountAsync());
        Assert.Equal(1, await _dovecot.CountAsync("Quarantine"));
        Assert.Equal(1L, await _bed.ScalarAsync<long>("SELECT count(*) FROM submissions"));
        Assert.Single(Directory.GetFiles(_bed.BlobDirectory)); // the kept email; nothing of the empty one
    }

    [Fact]
    public async Task A_desk_that_cannot_take_mail_is_recorded_for_the_desk_and_loses_nothing()
    {
        await _dovecot.DeliverAsync(Message("w", "for a desk that does not exist"));
        await using var services = _bed.Services(Settings(("Mail:Desk", "nowhere")));

        await services.GetRequiredService<ImapGateway>().RunAsync(CancellationToken.None);

        var status = (await services.GetRequiredService<ServiceStatus>().ListAsync(CancellationToken.None)).Single();
        Assert.Contains("UnknownDeskException", status.Failure, StringComparison.Ordinal);
        Assert.Equal(1, await _dovecot.CountAsync());
        Assert.Equal(0L, await _bed.ScalarAsync<long>("SELECT count(*) FROM submissions"));
    }

    [Fact]
    public async Task A_wrong_password_is_recorded_for_the_desk_and_retried_later_with_nothing_lost()
    {
        await _dovecot.DeliverAsync(Message("w", "waiting"));
        await using var services = _bed.Services(Settings(("Mail:Imap:Password", "not-the-password")));

        await services.GetRequiredService<ImapGateway>().RunAsync(CancellationToken.None);

        var status = (await services.GetRequiredService<ServiceStatus>().ListAsync(CancellationToken.None)).Single();
        Assert.Equal(1, status.FailuresInARow);
        Assert.Contains("Authentication", status.Failure, StringComparison.Ordinal);
        Assert.True(await services.GetRequiredService<ServiceStatus>().IsBackingOffAsync(ImapGateway.Component, CancellationToken.None));
        Assert.Equal(1, await _dovecot.CountAsync());
        Assert.Equal(0L, await _bed.ScalarAsync<long>("SELECT count(*) FROM submissions"));
    }

    [Fact]
    public async Task Implicit_tls_works_with_the_servers_own_certificate_trusted()
    {
        var message = Message("w", "over tls");
        await _dovecot.DeliverAsync(message);
        await using var services = _bed.Services(Settings(("Mail:Imap:Port", _dovecot.TlsPort.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("Mail:Imap:Security", "tls"), ("Mail:Imap:TrustedCertificateFile", _dovecot.CertificatePath)));

        await services.GetRequiredService<ImapGateway>().RunAsync(CancellationToken.None);

        Assert.Equal(0, await _dovecot.CountAsync());
        Assert.Contains(await _bed.DecryptAllAsync(), p => p.AsSpan().SequenceEqual(message));
    }

    [Fact]
    public async Task Starttls_works_and_an_untrusted_certificate_is_refused_without_losing_mail()
    {
        var message = Message("w", "over starttls");
        await _dovecot.DeliverAsync(message);

        await using (var untrusted = _bed.Services(Settings(("Mail:Imap:Security", "starttls"))))
        {
            await untrusted.GetRequiredService<ImapGateway>().RunAsync(CancellationToken.None);
            var status = (await untrusted.GetRequiredService<ServiceStatus>().ListAsync(CancellationToken.None)).Single();
            Assert.Contains("SslHandshake", status.Failure, StringComparison.Ordinal);
            Assert.Equal(1, await _dovecot.CountAsync());
        }

        await ExecuteAsync("DELETE FROM service_status"); // the back-off would otherwise hold the next pass
        await using var trusted = _bed.Services(Settings(("Mail:Imap:Security", "starttls"), ("Mail:Imap:TrustedCertificateFile", _dovecot.CertificatePath)));
        await trusted.GetRequiredService<ImapGateway>().RunAsync(CancellationToken.None);

        Assert.Equal(0, await _dovecot.CountAsync());
        Assert.Contains(await _bed.DecryptAllAsync(), p => p.AsSpan().SequenceEqual(message));
    }

    [Fact]
    public async Task An_acknowledgement_goes_back_to_each_sender_only_when_an_admin_turned_it_on()
    {
        await using var smtp = await SmtpSink.StartAsync();
        await _dovecot.DeliverAsync(Message("first", "one"));
        await _dovecot.DeliverAsync(Message("second", "two"));
        await using var services = _bed.Services(Settings(("Mail:AcknowledgementText", "Your message reached the newsroom."),
            ("Mail:Smtp:Host", smtp.Host), ("Mail:Smtp:Port", smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("Mail:Smtp:Security", "none"), ("Mail:Smtp:From", "tips@newsroom.invalid")));

        await services.GetRequiredService<ImapGateway>().RunAsync(CancellationToken.None);

        var acknowledgements = (await smtp.WaitForMessagesAsync(2, TimeSpan.FromSeconds(60))).Select(m => Encoding.UTF8.GetString(m)).ToList();
        Assert.Contains(acknowledgements, a => a.Contains("To: first@example.invalid", StringComparison.Ordinal));
        Assert.Contains(acknowledgements, a => a.Contains("To: second@example.invalid", StringComparison.Ordinal));
        Assert.All(acknowledgements, a => Assert.Contains("Your message reached the newsroom.", a, StringComparison.Ordinal));
        Assert.All(acknowledgements, a => Assert.DoesNotContain("one", a.Split("\r\n\r\n", 2)[1], StringComparison.Ordinal));
        Assert.Equal(0L, await _bed.ScalarAsync<long>("SELECT count(*) FROM mail_messages"));
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new Npgsql.NpgsqlConnection(_bed.Database);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private Dictionary<string, string?> Settings(params (string Key, string Value)[] overrides)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Mail:Imap:Host"] = _dovecot.Host,
            ["Mail:Imap:Port"] = _dovecot.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Mail:Imap:Security"] = "none",
            ["Mail:Imap:User"] = _dovecot.User,
            ["Mail:Imap:Password"] = _dovecot.Password,
        };
        foreach (var (key, value) in overrides)
        {
            settings[key] = value;
        }

        return settings;
    }

    private async Task<long> UidValidityAsync()
    {
        using var client = new MailKit.Net.Imap.ImapClient();
        await client.ConnectAsync(_dovecot.Host, _dovecot.Port, MailKit.Security.SecureSocketOptions.None);
        await client.AuthenticateAsync(_dovecot.User, _dovecot.Password);
        await client.Inbox.OpenAsync(MailKit.FolderAccess.ReadOnly);
        return client.Inbox.UidValidity;
    }

    [Fact]
    public async Task The_ledger_holds_no_plain_hash_of_the_email_and_another_pepper_gives_another_digest()
    {
        var message = Message("w", "a leaked memo");
        await using var services = _bed.Services(Settings());
        await using var otherInstall = _bed.Services(Settings(("Codenames:Pepper", Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)))));

        await CommitAsIfTheGatewayCrashedAsync(services, message, uidValidity: 1, uid: 1);
        await CommitAsIfTheGatewayCrashedAsync(otherInstall, message, uidValidity: 1, uid: 2);

        var digests = await _bed.ColumnAsync<byte[]>("SELECT digest FROM mail_messages ORDER BY uid");
        Assert.Equal(2, digests.Count);
        Assert.All(digests, d => Assert.NotEqual(SHA256.HashData(message), d));
        Assert.NotEqual(digests[0], digests[1]);
    }

    private async Task CommitAsIfTheGatewayCrashedAsync(ServiceProvider services, byte[] message, long uidValidity, long uid)
    {
        var mailbox = $"{_dovecot.User}@{_dovecot.Host}:{_dovecot.Port}/INBOX";
        await services.GetRequiredService<MessageIntake>().IngestAsync(new MemoryStream(message), "default", 1 << 20, isTakenIn: null,
            digest => new MailOrigin(mailbox, uidValidity, uid, digest), CancellationToken.None);
        var stored = await _bed.ScalarAsync<byte[]>($"SELECT digest FROM mail_messages WHERE uid = {uid}");
        Assert.NotEqual(SHA256.HashData(message), stored);
    }

    private static byte[] Message(string from, string body) => Encoding.UTF8.GetBytes(
        $"From: {from}@example.invalid\r\nTo: tips@newsroom.invalid\r\nSubject: tip\r\nMessage-ID: <{Guid.NewGuid()}@example.invalid>\r\n" +
        $"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n");
}
