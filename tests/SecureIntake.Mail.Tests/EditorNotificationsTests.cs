using System.Globalization;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using Org.BouncyCastle.Bcpg;
using SecureIntake.Core.Editors;
using SecureIntake.Core.Intake;
using SecureIntake.Core.Recipients;
using SecureIntake.Core.Status;
using SecureIntake.Mail.Notify;
using SecureIntake.Testing;

namespace SecureIntake.Mail.Tests;

/// <summary>
/// Editors are told what arrived on their desks, by encrypted mail through a real SMTP receiver, on a fixed schedule:
/// what reaches their mailbox looks the same whether or not anything arrived, and a slow mail server never holds up
/// a witness.
/// </summary>
public sealed class EditorNotificationsTests : IAsyncLifetime
{
    private const string Tip = "The convoy left the barracks at 03:00.";

    // Generous safety nets for two busy cores, not measures: each wait ends as soon as its condition holds.
    private static readonly TimeSpan Safety = TimeSpan.FromSeconds(60);

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

    [Fact]
    public async Task A_window_with_nothing_new_sends_the_same_subject_and_size_as_one_with_news()
    {
        await using var services = _bed.Services(Settings(_smtp.Port));
        await AddEditorAsync(services, "alice", EditorRole.Editor, _bed.EditorFingerprint, "default");
        await AddEditorAsync(services, "bob", EditorRole.Editor, null, "default");
        for (var i = 0; i < 12; i++)
        {
            await SubmitAsync(services, "default");
        }

        var notifications = services.GetRequiredService<EditorNotifications>();
        Assert.Equal(2, await notifications.RunAsync(CancellationToken.None));
        Assert.Equal(2, await notifications.RunAsync(CancellationToken.None)); // nothing new, sent all the same

        var sent = await _smtp.WaitForMessagesAsync(4, Safety);
        var toAlice = sent.Where(m => To(m) == "alice@newsroom.invalid").ToList();
        var toBob = sent.Where(m => To(m) == "bob@newsroom.invalid").ToList();
        Assert.Equal(2, toAlice.Count);
        Assert.Equal(2, toBob.Count);
        Assert.All(sent, m => Assert.Equal(EditorNotifications.Subject, Load(m).Subject));
        Assert.Equal(toAlice[0].Length, toAlice[1].Length);
        Assert.Equal(CiphertextBytes(toAlice[0]), CiphertextBytes(toAlice[1])); // to the byte, not just to base64's 3
        Assert.Equal(toBob[0].Length, toBob[1].Length);

        Assert.Equal("multipart/encrypted", Assert.IsAssignableFrom<Multipart>(Load(toAlice[0]).Body).ContentType.MimeType);
        Assert.Contains("desk default: 12 new submission(s), 0 follow-up(s)", await DecryptAsync(toAlice[0]), StringComparison.Ordinal);
        Assert.Contains("desk default: 0 new submission(s), 0 follow-up(s)", await DecryptAsync(toAlice[1]), StringComparison.Ordinal);
        Assert.Contains("https://desk.newsroom.invalid/desk", await DecryptAsync(toAlice[1]), StringComparison.Ordinal);
        Assert.Equal(Load(toBob[0]).TextBody, Load(toBob[1]).TextBody);
        foreach (var raw in sent)
        {
            Assert.DoesNotContain("convoy", Encoding.UTF8.GetString(raw), StringComparison.Ordinal);
            Assert.DoesNotContain("new submission", Encoding.UTF8.GetString(raw), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task With_empty_notifications_off_a_window_with_nothing_new_sends_nothing()
    {
        await using var services = _bed.Services(new Dictionary<string, string?>(Settings(_smtp.Port)) { ["Mail:Notify:SendWhenNothingNew"] = "false" });
        await AddEditorAsync(services, "alice", EditorRole.Editor, _bed.EditorFingerprint, "default");
        var notifications = services.GetRequiredService<EditorNotifications>();

        Assert.Equal(0, await notifications.RunAsync(CancellationToken.None));
        await SubmitAsync(services, "default");
        Assert.Equal(1, await notifications.RunAsync(CancellationToken.None));
        Assert.Equal(0, await notifications.RunAsync(CancellationToken.None));

        var sent = Assert.Single(await _smtp.WaitForMessagesAsync(1, Safety));
        Assert.Contains("desk default: 1 new submission(s)", await DecryptAsync(sent), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_editor_is_told_only_about_their_own_desks_and_an_admin_about_all_in_mails_of_one_size()
    {
        await using var services = _bed.Services(Settings(_smtp.Port));
        var key = (await services.GetRequiredService<RecipientStore>().ListAsync(CancellationToken.None)).First(r => r.Verdict.Key is not null).Verdict.Key!;
        await services.GetRequiredService<RecipientStore>().CreateDeskAsync("investigations-eastern-region", 30, key, CancellationToken.None);
        await AddEditorAsync(services, "alice", EditorRole.Editor, _bed.EditorFingerprint, "investigations-eastern-region");
        await AddEditorAsync(services, "bobby", EditorRole.Editor, _bed.EditorFingerprint, "default");
        await AddEditorAsync(services, "carol", EditorRole.Admin, _bed.EditorFingerprint);
        await SubmitAsync(services, "investigations-eastern-region");
        await SubmitAsync(services, "default");
        await SubmitAsync(services, "default");

        Assert.Equal(3, await services.GetRequiredService<EditorNotifications>().RunAsync(CancellationToken.None));

        var sent = await _smtp.WaitForMessagesAsync(3, Safety);
        var toAlice = await DecryptAsync(sent.Single(m => To(m) == "alice@newsroom.invalid"));
        var toBobby = await DecryptAsync(sent.Single(m => To(m) == "bobby@newsroom.invalid"));
        var toCarol = await DecryptAsync(sent.Single(m => To(m) == "carol@newsroom.invalid"));
        Assert.Contains("desk investigations-eastern-region: 1 new submission(s)", toAlice, StringComparison.Ordinal);
        Assert.DoesNotContain("desk default", toAlice, StringComparison.Ordinal);
        Assert.Contains("desk default: 2 new submission(s)", toBobby, StringComparison.Ordinal);
        Assert.DoesNotContain("investigations", toBobby, StringComparison.Ordinal);
        Assert.Contains("desk investigations-eastern-region: 1 new submission(s)", toCarol, StringComparison.Ordinal);
        Assert.Contains("desk default: 2 new submission(s)", toCarol, StringComparison.Ordinal);

        // Same To length for all three: the whole mails are the same size, however many desks and whichever names.
        Assert.Single(sent.Select(m => m.Length).Distinct());
    }

    [Fact]
    public async Task A_stalled_smtp_server_does_not_hold_up_a_witness_and_what_arrives_during_a_send_goes_with_the_next_window()
    {
        await using var relay = new StallingSmtpRelay(_smtp.Port);
        // SMTP timeout far beyond the safety net: a commit waiting on the send would fail the test, not just slow it.
        await using var stalled = _bed.Services(new Dictionary<string, string?>(Settings(relay.Port)) { ["Mail:Notify:SmtpTimeoutSeconds"] = "600" });
        await AddEditorAsync(stalled, "alice", EditorRole.Editor, _bed.EditorFingerprint, "default");
        await SubmitAsync(stalled, "default");

        var window = Task.Run(() => stalled.GetRequiredService<EditorNotifications>().RunAsync(CancellationToken.None));
        await relay.Accepted.WaitAsync(Safety);
        Assert.False(window.IsCompleted);

        // A witness on the same desk commits while the notification job sits in its SMTP session.
        await SubmitAsync(stalled, "default").WaitAsync(Safety);

        // The next window finds this one still sending and leaves it be, rather than telling and taking off twice.
        Assert.Equal(0, await stalled.GetRequiredService<EditorNotifications>().RunAsync(CancellationToken.None).WaitAsync(Safety));
        Assert.False(window.IsCompleted);

        relay.Release();
        Assert.Equal(1, await window.WaitAsync(Safety));
        Assert.Contains("desk default: 1 new submission(s)", await DecryptAsync((await _smtp.WaitForMessagesAsync(1, Safety))[0]), StringComparison.Ordinal);

        await using var next = _bed.Services(Settings(_smtp.Port));
        Assert.Equal(1, await next.GetRequiredService<EditorNotifications>().RunAsync(CancellationToken.None));
        Assert.Contains("desk default: 1 new submission(s)", await DecryptAsync((await _smtp.WaitForMessagesAsync(2, Safety))[1]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failed_send_is_shown_on_the_desk_and_the_counts_wait_for_the_next_window()
    {
        // Held bound and not listening: refused, and no other process can start listening on it meanwhile.
        using var refusing = LoopbackPort.Refusing();
        await using (var down = _bed.Services(Settings(refusing.Port)))
        {
            await AddEditorAsync(down, "carol", EditorRole.Editor, _bed.EditorFingerprint, "default");
            await SubmitAsync(down, "default");

            Assert.Equal(0, await down.GetRequiredService<EditorNotifications>().RunAsync(CancellationToken.None));

            var status = (await down.GetRequiredService<ServiceStatus>().ListAsync(CancellationToken.None)).Single(s => s.Component == EditorNotifications.Component);
            Assert.Equal(1, status.FailuresInARow);
        }

        // A server that takes the connection and never answers: given up after the SMTP timeout, counts kept.
        await using (var blackHole = new StallingSmtpRelay(_smtp.Port))
        await using (var silent = _bed.Services(new Dictionary<string, string?>(Settings(blackHole.Port)) { ["Mail:Notify:SmtpTimeoutSeconds"] = "2" }))
        {
            await SubmitAsync(silent, "default");
            Assert.Equal(0, await silent.GetRequiredService<EditorNotifications>().RunAsync(CancellationToken.None).WaitAsync(Safety));
            Assert.True(blackHole.Accepted.IsCompleted);
        }

        await using var up = _bed.Services(Settings(_smtp.Port));
        Assert.Equal(1, await up.GetRequiredService<EditorNotifications>().RunAsync(CancellationToken.None));
        var sent = Assert.Single(await _smtp.WaitForMessagesAsync(1, Safety));
        Assert.Contains("desk default: 2 new submission(s)", await DecryptAsync(sent), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_address_the_server_refuses_costs_no_other_editor_their_mail_and_is_shown_on_the_desk()
    {
        await using var services = _bed.Services(Settings(_smtp.Port));
        await AddEditorAsync(services, "a-refused", EditorRole.Editor, _bed.EditorFingerprint, "default"); // sent to first
        await AddEditorAsync(services, "carol", EditorRole.Editor, _bed.EditorFingerprint, "default");
        await SubmitAsync(services, "default");

        Assert.Equal(1, await services.GetRequiredService<EditorNotifications>().RunAsync(CancellationToken.None));
        var first = Assert.Single(await _smtp.WaitForMessagesAsync(1, Safety));
        Assert.Equal("carol@newsroom.invalid", To(first));
        Assert.Contains("desk default: 1 new submission(s)", await DecryptAsync(first), StringComparison.Ordinal);
        var status = (await services.GetRequiredService<ServiceStatus>().ListAsync(CancellationToken.None)).Single(s => s.Component == EditorNotifications.Component);
        Assert.Equal(1, status.FailuresInARow);
        Assert.Contains("a-refused", status.Failure, StringComparison.Ordinal);

        // Refused for good, that address holds no count back: the next window tells carol nothing new, not the same arrival again.
        Assert.Equal(1, await services.GetRequiredService<EditorNotifications>().RunAsync(CancellationToken.None));
        var second = (await _smtp.WaitForMessagesAsync(2, Safety))[1];
        Assert.Contains("desk default: 0 new submission(s)", await DecryptAsync(second), StringComparison.Ordinal);
    }

    private static async Task AddEditorAsync(ServiceProvider services, string name, EditorRole role, string? fingerprint, params string[] desks)
    {
        var editors = services.GetRequiredService<EditorStore>();
        await editors.AddAsync(name, role, "kettle-orbit-mangrove-17", CancellationToken.None);
        await editors.SetNotificationAsync(name, $"{name}@newsroom.invalid", fingerprint, CancellationToken.None);
        if (desks.Length > 0)
        {
            await services.GetRequiredService<DeskMembership>().JoinAsync(null, name, desks, CancellationToken.None);
        }
    }

    /// <summary>A witness's web submission, committed as the witness form commits it.</summary>
    private static async Task SubmitAsync(ServiceProvider services, string desk)
    {
        await using var draft = await services.GetRequiredService<IntakeService>().StartAsync(desk, "web", CancellationToken.None);
        await draft.AddAsync(ItemKind.Message, null, "text/plain; charset=utf-8", new MemoryStream(Encoding.UTF8.GetBytes(Tip)), CancellationToken.None);
        await draft.CommitAsync(CancellationToken.None);
    }

    private static MimeMessage Load(byte[] raw) => MimeMessage.Load(new MemoryStream(raw));

    private static string To(byte[] raw) => Load(raw).To.Mailboxes.Single().Address;

    /// <summary>The length of the OpenPGP message itself, as an observer of the mail could take it out of the armor.</summary>
    private static long CiphertextBytes(byte[] raw)
    {
        using var armored = new MemoryStream();
        ((MimePart)Assert.IsAssignableFrom<Multipart>(Load(raw).Body)[1]).Content!.DecodeTo(armored);
        armored.Position = 0;
        using var binary = new MemoryStream();
        new ArmoredInputStream(armored).CopyTo(binary);
        return binary.Length;
    }

    /// <summary>The body as the editor reads it: the PGP/MIME part decrypted by gpg.</summary>
    private async Task<string> DecryptAsync(byte[] raw)
    {
        var encrypted = Assert.IsAssignableFrom<Multipart>(Load(raw).Body);
        Assert.Equal("application/pgp-encrypted", encrypted.ContentType.Parameters["protocol"]);
        using var armored = new MemoryStream();
        await ((MimePart)encrypted[1]).Content!.DecodeToAsync(armored);
        return Encoding.UTF8.GetString((await _bed.Gpg.RunAsync(["--decrypt"], armored.ToArray())).EnsureSuccess("gpg --decrypt").Output);
    }

    private static Dictionary<string, string?> Settings(int smtpPort) => new()
    {
        ["Mail:Smtp:Host"] = "127.0.0.1",
        ["Mail:Smtp:Port"] = smtpPort.ToString(CultureInfo.InvariantCulture),
        ["Mail:Smtp:Security"] = "none",
        ["Mail:Smtp:From"] = "secureintake@newsroom.invalid",
        ["Mail:Smtp:DeskUrl"] = "https://desk.newsroom.invalid/desk",
    };
}
