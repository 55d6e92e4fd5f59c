using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using SecureIntake.Server.Tests.Witness;

namespace SecureIntake.Server.Tests.Cluster;

/// <summary>What one witness sends: a message carrying a marker found nowhere else, and sometimes a file.</summary>
internal sealed record WitnessTip(int Index, string Marker, byte[]? File)
{
    public string Message => $"Свидетель {Index}, {Marker}: the police came at night.";

    public static WitnessTip Make(int index) => new(index, $"tip-{index}-{Guid.NewGuid():N}",
        index % 3 == 0 ? RandomNumberGenerator.GetBytes(48 * 1024 + index) : null);
}

internal static partial class ClusterWitnesses
{
    /// <summary>
    /// Opens the form on one node and posts it to another (a browser behind one onion service does not choose);
    /// returns the codename when the witness was told their tip was received, null when anything went wrong.
    /// </summary>
    public static async Task<string?> SubmitAsync(Uri formNode, Uri postNode, WitnessTip tip)
    {
        ArgumentNullException.ThrowIfNull(tip);
        var cookies = new CookieContainer();
        try
        {
            using var formClient = Client(formNode, cookies);
            var token = await WitnessForms.TokenAsync(formClient);
            using var postClient = Client(postNode, cookies);
            using var form = WitnessForms.Multipart(token, tip.Message);
            if (tip.File is { } file)
            {
                var part = new ByteArrayContent(file);
                part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                form.Add(part, "files", $"evidence-{tip.Index}.bin");
            }

            using var response = await postClient.PostAsync(new Uri("/en/submit", UriKind.Relative), form);
            var page = await response.Content.ReadAsStringAsync();
            return response.StatusCode == HttpStatusCode.OK && CodenamePattern().Match(page) is { Success: true } match
                ? WebUtility.HtmlDecode(match.Groups[1].Value)
                : null;
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException or InvalidOperationException)
        {
            return null; // the node died under the post, or was down: the witness sees an error, not a codename
        }
    }

    /// <summary>
    /// A post whose file stops arriving after <paramref name="sendBytes"/> and waits until <paramref name="abandon"/>,
    /// as a witness on a stalled Tor circuit does; the server has by then encrypted part of it into a blob.
    /// </summary>
    public static async Task<bool> SubmitStallingAsync(Uri node, WitnessTip tip, int sendBytes, HeldProgress progress, CancellationToken abandon)
    {
        ArgumentNullException.ThrowIfNull(tip);
        var cookies = new CookieContainer();
        try
        {
            using var client = Client(node, cookies);
            var token = await WitnessForms.TokenAsync(client, "/en/submit");
            using var form = WitnessForms.Multipart(token, tip.Message);
            var part = new StreamContent(new StallingStream(sendBytes, progress, abandon));
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(part, "files", $"stalled-{tip.Index}.bin");
            using var response = await client.PostAsync(new Uri("/en/submit", UriKind.Relative), form, abandon);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
        {
            return false;
        }
    }

    private static HttpClient Client(Uri address, CookieContainer cookies) =>
        new(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = cookies }) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(90) };

    [GeneratedRegex("id=\"your-codename\">([^<]+)<")]
    private static partial Regex CodenamePattern();

    /// <summary>How many bytes the stalled uploads have handed to their connections.</summary>
    internal sealed class HeldProgress
    {
        private long _sent;

        public long Sent => Interlocked.Read(ref _sent);

        public void Add(int bytes) => Interlocked.Add(ref _sent, bytes);
    }

    /// <summary>Random bytes up to a point, then a read that only ends when the post is abandoned.</summary>
    private sealed class StallingStream(int sendBytes, HeldProgress progress, CancellationToken abandon) : Stream
    {
        private int _sent;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => _sent;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("read asynchronously");

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_sent >= sendBytes)
            {
                using var both = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, abandon);
                await Task.Delay(Timeout.Infinite, both.Token);
            }

            var count = Math.Min(buffer.Length, Math.Min(sendBytes - _sent, 64 * 1024));
            RandomNumberGenerator.Fill(buffer.Span[..count]);
            _sent += count;
            progress.Add(count);
            return count;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
