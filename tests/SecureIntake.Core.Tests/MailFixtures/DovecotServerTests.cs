using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using SecureIntake.Testing;

namespace SecureIntake.Core.Tests.MailFixtures;

public sealed class DovecotServerTests
{
    [Fact]
    public async Task Delivered_messages_are_served_over_plain_imap()
    {
        await using var dovecot = await DovecotServer.StartAsync();
        var first = Message("first");
        await dovecot.DeliverAsync(first);
        await dovecot.DeliverAsync(Message("second"));

        using var tcp = new TcpClient();
        await tcp.ConnectAsync(dovecot.Host, dovecot.Port);
        using var imap = new LineClient(tcp.GetStream());
        Assert.StartsWith("* OK", await imap.ReadLineAsync());
        Assert.StartsWith("a1 OK", (await imap.ImapAsync("a1", $"LOGIN {dovecot.User} {dovecot.Password}"))[^1]);
        var selected = await imap.ImapAsync("a2", "SELECT INBOX");
        var fetched = await imap.ImapAsync("a3", "FETCH 1 BODY.PEEK[]");
        await imap.ImapAsync("a4", "LOGOUT");

        Assert.Contains("* 2 EXISTS", selected);
        Assert.StartsWith("a2 OK", selected[^1]);
        // The literal's lines come back as lines; joined with CRLF again they must be the delivered bytes.
        var literal = string.Join("\r\n", fetched.Skip(1).TakeWhile(l => l != ")")) + "\r\n";
        Assert.Equal(Encoding.Latin1.GetString(first), literal);
        Assert.Equal(2, await dovecot.CountAsync());
    }

    [Fact]
    public async Task Imaps_presents_the_generated_certificate_and_serves_other_folders()
    {
        await using var dovecot = await DovecotServer.StartAsync();
        await dovecot.DeliverAsync(Message("held back"), "Quarantine");
        await dovecot.CreateFolderAsync("Archive");
        using var trusted = X509CertificateLoader.LoadCertificateFromFile(dovecot.CertificatePath);

        using var tcp = new TcpClient();
        await tcp.ConnectAsync(dovecot.Host, dovecot.TlsPort);
        await using var tls = new SslStream(tcp.GetStream());
        // Trust only the fixture's certificate: the ordinary chain and host-name checks still run against it.
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.Add(trusted);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = dovecot.Host, CertificateChainPolicy = policy });
        using var imap = new LineClient(tls);
        Assert.StartsWith("* OK", await imap.ReadLineAsync());
        await imap.ImapAsync("a1", $"LOGIN {dovecot.User} {dovecot.Password}");
        var quarantine = await imap.ImapAsync("a2", "SELECT Quarantine");
        var inbox = await imap.ImapAsync("a3", "SELECT INBOX");
        var archive = await imap.ImapAsync("a4", "SELECT Archive");
        await imap.ImapAsync("a5", "LOGOUT");

        Assert.Equal(trusted, tls.RemoteCertificate is { } presented ? new X509Certificate2(presented) : null);
        Assert.Contains("* 1 EXISTS", quarantine);
        Assert.Contains("* 0 EXISTS", inbox);
        Assert.Contains("* 0 EXISTS", archive);
        Assert.Equal(1, await dovecot.CountAsync("Quarantine"));
        Assert.Equal(0, await dovecot.CountAsync());
    }

    [Fact]
    public async Task A_wrong_password_is_refused()
    {
        await using var dovecot = await DovecotServer.StartAsync();

        using var tcp = new TcpClient();
        await tcp.ConnectAsync(dovecot.Host, dovecot.Port);
        using var imap = new LineClient(tcp.GetStream());
        await imap.ReadLineAsync();
        var login = await imap.ImapAsync("a1", $"LOGIN {dovecot.User} not-{dovecot.Password}");

        Assert.StartsWith("a1 NO", login[^1]);
    }

    private static byte[] Message(string subject) => Encoding.ASCII.GetBytes(
        $"From: Source <source@example.org>\r\nTo: Tips <tips@example.org>\r\nSubject: {subject}\r\n" +
        $"Message-ID: <{Guid.NewGuid():N}@example.org>\r\n\r\nA tip about {subject}.\r\n");
}
