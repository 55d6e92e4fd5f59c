using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using SecureIntake.Mail.Ingest;
using SecureIntake.Testing;

namespace SecureIntake.Mail.Tests;

/// <summary>
/// The optional acknowledgement against a real SMTP server on loopback: it answers people, never machines, lists
/// or bounces, and never the same address twice in its quiet period. Each refusal is followed by a message that is
/// answered: once that answer has arrived, nothing else was sent before it.
/// </summary>
public sealed class AcknowledgementGuardTests : IAsyncLifetime
{
    private MailTestBed _bed = null!;
    private SmtpSink _smtp = null!;

    public async Task InitializeAsync()
    {
        _bed = await MailTestBed.CreateAsync();
        _smtp = await SmtpSink.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _smtp.DisposeAsync();
        await _bed.DisposeAsync();
    }

    [Theory]
    [InlineData("From: w@example.invalid", "Auto-Submitted: auto-replied")]
    [InlineData("From: w@example.invalid", "Auto-Submitted: auto-generated")]
    [InlineData("From: w@example.invalid", "List-Id: Tips <tips.example.invalid>")]
    [InlineData("From: w@example.invalid", "List-Unsubscribe: <mailto:leave@example.invalid>")]
    [InlineData("From: w@example.invalid", "List-Post: <mailto:list@example.invalid>")]
    [InlineData("From: w@example.invalid", "Precedence: bulk")]
    [InlineData("From: w@example.invalid", "Precedence: list")]
    [InlineData("From: w@example.invalid", "Precedence: junk")]
    [InlineData("From: w@example.invalid", "Return-Path: <>")]
    [InlineData("From: MAILER-DAEMON@example.invalid", "X-Note: a bounce")]
    [InlineData("From: postmaster@example.invalid", "X-Note: a bounce")]
    [InlineData("From: w@example.invalid", "Content-Type: multipart/report; report-type=delivery-status; boundary=b")]
    [InlineData("From: <>", "X-Note: no address")]
    public async Task Automatic_list_and_bounce_mail_gets_no_acknowledgement(string from, string header)
    {
        await using var services = Services();

        await IngestAndAcknowledgeAsync(services, $"{from}\r\n{header}\r\nSubject: tip\r\n\r\nbody\r\n");
        await IngestAndAcknowledgeAsync(services, Message("person@example.invalid"));

        var sent = await _smtp.WaitForMessagesAsync(1, TimeSpan.FromSeconds(60));
        Assert.Single(sent);
        Assert.Contains("To: person@example.invalid", Encoding.UTF8.GetString(sent[0]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_person_is_answered_with_an_auto_replied_acknowledgement()
    {
        await using var services = Services();

        await IngestAndAcknowledgeAsync(services, "From: w@example.invalid\r\nAuto-Submitted: no\r\nSubject: tip\r\n\r\nbody\r\n");

        var acknowledgement = Encoding.UTF8.GetString((await _smtp.WaitForMessagesAsync(1, TimeSpan.FromSeconds(60)))[0]);
        Assert.Contains("To: w@example.invalid", acknowledgement, StringComparison.Ordinal);
        Assert.Contains("Auto-Submitted: auto-replied", acknowledgement, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_same_address_is_answered_once_in_its_quiet_period_and_remembered_only_as_a_keyed_hash()
    {
        await using var services = Services();

        await IngestAndAcknowledgeAsync(services, Message("w@example.invalid"));
        await IngestAndAcknowledgeAsync(services, Message("w@example.invalid"));
        await IngestAndAcknowledgeAsync(services, Message("W+again@Example.INVALID"));
        await IngestAndAcknowledgeAsync(services, Message("person@example.invalid"));

        var sent = (await _smtp.WaitForMessagesAsync(2, TimeSpan.FromSeconds(60))).Select(Encoding.UTF8.GetString).ToList();
        Assert.Equal(2, sent.Count);
        Assert.Contains("To: w@example.invalid", sent[0], StringComparison.Ordinal);
        Assert.Contains("To: person@example.invalid", sent[1], StringComparison.Ordinal);
        var remembered = await _bed.ColumnAsync<byte[]>("SELECT sender_mac FROM acknowledged_senders");
        Assert.Equal(2, remembered.Count);
        Assert.DoesNotContain(SHA256.HashData("w@example.invalid"u8), remembered);
        Assert.All(remembered, r => Assert.DoesNotContain("example", Encoding.Latin1.GetString(r), StringComparison.Ordinal));
        Assert.Equal(0L, await _bed.ScalarAsync<long>("SELECT count(*) FROM acknowledged_senders WHERE date_trunc('hour', quiet_until) <> quiet_until"));
    }

    [Fact]
    public async Task Once_the_quiet_period_is_over_the_address_is_answered_again()
    {
        await using var services = Services();
        await IngestAndAcknowledgeAsync(services, Message("w@example.invalid"));
        await _smtp.WaitForMessagesAsync(1, TimeSpan.FromSeconds(60));

        await _bed.ScalarAsync<int>("WITH u AS (UPDATE acknowledged_senders SET quiet_until = now() - interval '1 hour' RETURNING 1) SELECT count(*)::int FROM u");
        await IngestAndAcknowledgeAsync(services, Message("w@example.invalid"));

        var sent = await _smtp.WaitForMessagesAsync(2, TimeSpan.FromSeconds(60));
        Assert.Equal(2, sent.Count);
    }

    private Microsoft.Extensions.DependencyInjection.ServiceProvider Services() => _bed.Services(new Dictionary<string, string?>
    {
        ["Mail:AcknowledgementText"] = "Your message reached the newsroom.",
        ["Mail:AcknowledgementQuietHours"] = "24",
        ["Mail:Smtp:Host"] = _smtp.Host,
        ["Mail:Smtp:Port"] = _smtp.Port.ToString(CultureInfo.InvariantCulture),
        ["Mail:Smtp:Security"] = "none",
        ["Mail:Smtp:From"] = "tips@newsroom.invalid",
    });

    /// <summary>What the IMAP gateway and `ingest-mail` do with each message: commit it, then ask the guard.</summary>
    private static async Task IngestAndAcknowledgeAsync(Microsoft.Extensions.DependencyInjection.ServiceProvider services, string message)
    {
        var result = await services.GetRequiredService<MessageIntake>().IngestAsync(new MemoryStream(Encoding.UTF8.GetBytes(message)), "default", 1 << 20,
            isTakenIn: null, origin: null, CancellationToken.None);
        Assert.Equal(IngestOutcome.Committed, result.Outcome);
        await services.GetRequiredService<AcknowledgementGuard>().SendAsync(result, CancellationToken.None);
    }

    private static string Message(string from) => $"From: {from}\r\nTo: tips@newsroom.invalid\r\nSubject: tip\r\n\r\nbody\r\n";
}
