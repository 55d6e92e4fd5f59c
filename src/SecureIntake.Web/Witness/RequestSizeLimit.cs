using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace SecureIntake.Web.Witness;

/// <summary>
/// The size limit of a witness's post, enforced by us rather than by Kestrel alone: when Kestrel refuses an
/// over-long body it closes the connection, and the browser shows a reset instead of our page. So Kestrel's
/// hard limit is set to twice ours, we stop storing at ours, read and discard the rest, then answer with
/// the page in full. Bodies beyond Kestrel's limit still get the connection closed on them.
/// </summary>
internal static class RequestSizeLimit
{
    public static void Apply(HttpContext context, long limit)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = limit > long.MaxValue / 2 ? long.MaxValue : limit * 2;
        }

        if (context.Request.ContentLength > limit)
        {
            throw new SubmissionRejectedException(SubmissionProblem.TooLarge);
        }

        context.Request.Body = new LimitedStream(context.Request.Body, limit);
    }

    /// <summary>Reads and discards what is left of the body (up to Kestrel's limit) so the browser gets our answer.</summary>
    public static async Task DiscardRestAsync(HttpContext context)
    {
        var body = context.Request.Body is LimitedStream limited ? limited.Inner : context.Request.Body;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            timeout.CancelAfter(TimeSpan.FromMinutes(10));
            await body.CopyToAsync(Stream.Null, timeout.Token);
        }
        catch (Exception e) when (e is BadHttpRequestException or IOException or OperationCanceledException)
        {
            // Past Kestrel's limit, cut off, or gone: the connection closes and there is nobody left to answer.
        }
    }

    private sealed class LimitedStream(Stream inner, long limit) : Stream
    {
        private long _read;

        public Stream Inner { get; } = inner;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Count(Inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await Inner.ReadAsync(buffer, cancellationToken));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private int Count(int read)
        {
            _read += read;
            return _read > limit ? throw new SubmissionRejectedException(SubmissionProblem.TooLarge) : read;
        }
    }
}
