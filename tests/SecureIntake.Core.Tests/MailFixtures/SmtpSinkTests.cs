using System.Net.Sockets;
using System.Text;
using SecureIntake.Testing;

namespace SecureIntake.Core.Tests.MailFixtures;

public sealed class SmtpSinkTests
{
    [Fact]
    public async Task A_message_sent_over_smtp_is_kept_byte_for_byte()
    {
        await using var sink = await SmtpSink.StartAsync();
        // CRLFs, header spacing a parser would normalize, 8-bit text and a line starting with a dot all survive.
        var message = Encoding.UTF8.GetBytes(
            "From: Gateway <gateway@example.org>\r\nTo: Desk <desk@example.org>\r\nSubject:   a new tip\r\n" +
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
            "Größe egal.\r\n.a line starting with a dot\r\n.\r\nlast line\r\n");

        using var tcp = new TcpClient();
        await tcp.ConnectAsync(sink.Host, sink.Port);
        using var smtp = new LineClient(tcp.GetStream());
        Assert.StartsWith("220 ", await smtp.SmtpReplyAsync());
        await smtp.WriteLineAsync("EHLO client.example.org");
        Assert.StartsWith("250 ", await smtp.SmtpReplyAsync());
        await smtp.WriteLineAsync("MAIL FROM:<gateway@example.org> BODY=8BITMIME");
        Assert.StartsWith("250 ", await smtp.SmtpReplyAsync());
        await smtp.WriteLineAsync("RCPT TO:<desk@example.org>");
        Assert.StartsWith("250 ", await smtp.SmtpReplyAsync());
        await smtp.WriteLineAsync("DATA");
        Assert.StartsWith("354 ", await smtp.SmtpReplyAsync());
        await smtp.WriteAsync(DotStuffed(message));
        await smtp.WriteLineAsync(".");
        Assert.StartsWith("250 ", await smtp.SmtpReplyAsync());
        await smtp.WriteLineAsync("QUIT");
        Assert.StartsWith("221 ", await smtp.SmtpReplyAsync());

        var received = await sink.WaitForMessagesAsync(1, TimeSpan.FromSeconds(60));

        Assert.Equal(message, Assert.Single(received));
    }

    [Fact]
    public async Task Waiting_for_more_messages_than_arrive_times_out()
    {
        await using var sink = await SmtpSink.StartAsync();

        await Assert.ThrowsAsync<TimeoutException>(() => sink.WaitForMessagesAsync(1, TimeSpan.FromMilliseconds(200)));
    }

    /// <summary>RFC 5321 4.5.2: a line that starts with a dot gets one more, which the server takes off again.</summary>
    private static byte[] DotStuffed(byte[] message)
    {
        var stuffed = new List<byte>();
        var lineStart = true;
        foreach (var b in message)
        {
            if (lineStart && b == (byte)'.')
            {
                stuffed.Add((byte)'.');
            }

            stuffed.Add(b);
            lineStart = b == (byte)'\n';
        }

        return [.. stuffed];
    }
}
