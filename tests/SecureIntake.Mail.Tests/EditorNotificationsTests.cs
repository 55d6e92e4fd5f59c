using System.Text;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using SecureIntake.Core.Editors;
using SecureIntake.Core.Status;
using SecureIntake.Mail.Ingest;
using SecureIntake.Mail.Notify;
using SecureIntake.Testing;

namespace SecureIntake.Mail.Tests;

/// <summary>Editors are told that something arrived, by encrypted mail through a real SMTP receiver, and told nothing of what.</summary>
public sealed class EditorNotificationsTests : IAsyncLifetime
{
    private const string Tip = "The convoy left the barracks at 03:00.";
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
    public async Task An_editor_with_a_key_gets_pgp_mime_with_counts_only_and_one_without_gets_a_generic_notice()
    {
        await using var services = _bed.Services(Settings(_smtp.Port));
        var editors = services.GetRequiredService<EditorStore>();
        await editors.AddAsync("alice", EditorRole.Editor, "kettle-orbit-mangrove-17", CancellationToken.None);
        await editors.SetNotificationAsync("alice", "alice@newsroom.invalid", _bed.EditorFingerprint, CancellationToken.None);
        await editors.AddAsync("bob", EditorRole.Editor, "kettle-orbit-mangrove-17", CancellationToken.None);
        await editors.SetNotificationAsync("bob", "bob@newsroom.invalid", null, CancellationToken.None);
        await SubmitAsync(services, Tip);
        await SubmitAsync(services, "second tip");

        Assert.Equal(2, await services.GetRequiredService<EditorNotifications>().RunAsync(CancellationToken.None));

        var sent = (await _smtp.WaitForMessagesAsync(2, TimeSpan.FromSeconds(60))).Select(m => MimeMessage.Load(new MemoryStream(m))).ToList();
        var toAlice = sent.Single(m => m.To.ToString().Contains("alice", StringComparison.Ordinal));
        var toBob = sent.Single(m => m.To.ToString().Contains("bob", StringComparison.Ordinal));

        var encrypted = Assert.IsAssignableFrom<Multipart>(toAlice.Body);
        Assert.Equal("multipart/encrypted", encrypted.ContentType.MimeType);
        Assert.Equal("application/pgp-encrypted", encrypted.ContentType.Parameters["protocol"]);
        using var armored = new MemoryStream();
        await ((MimePart)encrypted[1]).Content!.DecodeToAsync(armored);
        var decrypted = Encoding.UTF8.GetString((await _bed.Gpg.RunAsync(["--decrypt"], armored.ToArray())).EnsureSuccess("gpg --decrypt").Output);
        Assert.Contains("desk default: 2 new submission(s), 0 follow-up(s)", decrypted, StringComparison.Ordinal);
        Assert.Contains("https://desk.newsroom.invalid/desk", decrypted, StringComparison.Ordinal);

        Assert.Contains("new activity on the SecureIntake desk", toBob.TextBody, StringComparison.Ordinal);
        Assert.DoesNotContain("2 new", toBob.TextBody, StringComparison.Ordinal);
        foreach (var raw in await _smtp.MessagesAsync())
        {
            Assert.DoesNotContain("convoy", Encoding.UTF8.GetString(raw), StringComparison.Ordinal);
            Assert.DoesNotContain("new submission", Encoding.UTF8.GetString(raw), StringComparison.Ordinal);
        }

        Assert.Equal(0L, await _bed.ScalarAsync<long>("SELECT sum(new_submissions + follow_ups) FROM notification_pending"));
        Assert.Equal(0, await services.GetRequiredService<EditorNotifications>().RunAsync(CancellationToken.None)); // nothing new, nothing sent
    }

    [Fact]
    public async Task A_failed_send_is_shown_on_the_desk_and_the_counts_wait_for_the_next_window()
    {
        // Held bound and not listening: refused, and no other process can start listening on it meanwhile.
        using var refusing = LoopbackPort.Refusing();
        await using (var down = _bed.Services(Settings(refusing.Port)))
        {
            var editors = down.GetRequiredService<EditorStore>();
            await editors.AddAsync("carol", EditorRole.Editor, "kettle-orbit-mangrove-17", CancellationToken.None);
            await editors.SetNotificationAsync("carol", "carol@newsroom.invalid", _bed.EditorFingerprint, CancellationToken.None);
            await SubmitAsync(down, Tip);

            Assert.Equal(0, await down.GetRequiredService<EditorNotifications>().RunAsync(CancellationToken.None));

            var status = (await down.GetRequiredService<ServiceStatus>().ListAsync(CancellationToken.None)).Single(s => s.Component == EditorNotifications.Component);
            Assert.Equal(1, status.FailuresInARow);
        }

        await using var up = _bed.Services(Settings(_smtp.Port));
        Assert.Equal(1, await up.GetRequiredService<EditorNotifications>().RunAsync(CancellationToken.None));
        Assert.Single(await _smtp.WaitForMessagesAsync(1, TimeSpan.FromSeconds(60)));
    }

    private static async Task SubmitAsync(ServiceProvider services, string text) =>
        await services.GetRequiredService<MessageIntake>().IngestAsync(new MemoryStream(Encoding.UTF8.GetBytes($"Subject: tip\r\n\r\n{text}\r\n")),
            "default", 1 << 20, isTakenIn: null, origin: null, CancellationToken.None);

    private static Dictionary<string, string?> Settings(int smtpPort) => new()
    {
        ["Mail:Smtp:Host"] = "127.0.0.1",
        ["Mail:Smtp:Port"] = smtpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Mail:Smtp:Security"] = "none",
        ["Mail:Smtp:From"] = "secureintake@newsroom.invalid",
        ["Mail:Smtp:DeskUrl"] = "https://desk.newsroom.invalid/desk",
    };
}
