using System.Text;

namespace SecureIntake.Core.Tests.MailFixtures;

/// <summary>
/// Just enough of a client for IMAP's and SMTP's line dialogues, so the fixtures are checked with nothing
/// between the test and the wire (the gateway's MailKit is what they exist to test).
/// </summary>
internal sealed class LineClient(Stream stream) : IDisposable
{
    // A safety net for a server that stops answering, not a measure: replies come in milliseconds.
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    // Latin-1 maps bytes to chars one to one, so nothing read is mangled whatever the server sends.
    private readonly StreamReader _reader = new(stream, Encoding.Latin1, detectEncodingFromByteOrderMarks: false);

    public async Task<string> ReadLineAsync()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        return await _reader.ReadLineAsync(timeout.Token) ?? throw new EndOfStreamException("the server closed the connection");
    }

    public async Task WriteAsync(byte[] bytes)
    {
        await stream.WriteAsync(bytes);
        await stream.FlushAsync();
    }

    public Task WriteLineAsync(string line) => WriteAsync(Encoding.ASCII.GetBytes(line + "\r\n"));

    /// <summary>Sends an IMAP command and returns every line up to and including its tagged answer.</summary>
    public async Task<IReadOnlyList<string>> ImapAsync(string tag, string command)
    {
        await WriteLineAsync($"{tag} {command}");
        var lines = new List<string>();
        string line;
        do
        {
            line = await ReadLineAsync();
            lines.Add(line);
        }
        while (!line.StartsWith(tag + " ", StringComparison.Ordinal));

        return lines;
    }

    /// <summary>Reads one SMTP reply, all its continuation lines included, and returns its last line.</summary>
    public async Task<string> SmtpReplyAsync()
    {
        string line;
        do
        {
            line = await ReadLineAsync();
        }
        while (line.Length > 3 && line[3] == '-');

        return line;
    }

    public void Dispose() => _reader.Dispose();
}
