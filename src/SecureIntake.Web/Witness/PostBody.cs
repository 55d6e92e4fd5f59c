using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using SecureIntake.Web.Witness.Admission;

namespace SecureIntake.Web.Witness;

/// <summary>
/// A witness's post body as we read it: refused past its size limit, ended when the connection delivers
/// nothing for the stall time, and, once the post is admitted, counted against the hour's budget.
/// The size limit is ours rather than Kestrel's alone: when Kestrel refuses an over-long body it closes the
/// connection and the browser shows a reset instead of our page. So Kestrel's hard limit is set to twice
/// ours, we stop storing at ours, drain a bounded while, then answer with the page in full.
/// </summary>
internal sealed class PostBody : Stream
{
    // Long enough for a browser to finish sending a refused form over a slow link and see our page; short
    // enough that a refused post cannot hold its connection open for long.
    private static readonly TimeSpan DrainTime = TimeSpan.FromSeconds(60);

    private readonly long _limit;
    private readonly TimeSpan _stall;
    private readonly ITimer _stallTimer;
    private readonly PipeReader _pipe;
    private AdmissionTicket? _budget;
    private long _read;
    private volatile bool _stalled;

    private PostBody(HttpContext context, long limit, TimeSpan stall)
    {
        _limit = limit;
        _stall = stall;
        // A stall ends the pending read through the pipe itself (CancelPendingRead), not a cancellation token: a
        // token-cancelled read leaves Kestrel's body reader mid-read, and its own draining afterwards fails.
        _pipe = context.Request.BodyReader;
        _stallTimer = TimeProvider.System.CreateTimer(_ => CutOff(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        context.Response.RegisterForDispose(_stallTimer);
    }

    /// <summary>True once the client sent all it declared (or closed its side): a reader's "unexpected end" is then the client's fault.</summary>
    public bool Ended { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => _read; set => throw new NotSupportedException(); }

    /// <summary>Guards the request's body; refuses at once a post whose declared length is over the limit.</summary>
    public static PostBody Guard(HttpContext context, long limit, TimeSpan stall)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = limit > long.MaxValue / 2 ? long.MaxValue : limit * 2;
        }

        var body = new PostBody(context, limit, stall);
        context.Request.Body = body;
        return context.Request.ContentLength > limit ? throw new SubmissionRejectedException(SubmissionProblem.TooLarge) : body;
    }

    /// <summary>From now on every byte read counts against the hour's budget.</summary>
    public void CountAgainst(AdmissionTicket budget) => _budget = budget;

    /// <summary>
    /// After a refusal: reads and discards the rest (within Kestrel's limit, the stall time and a bounded while) so
    /// the browser gets our answer; false when it could not, and the connection must close after the answer.
    /// </summary>
    public async Task<bool> TryDrainAsync(SubmissionProblem problem)
    {
        _budget = null;
        if (problem == SubmissionProblem.Stalled || _stalled)
        {
            return false;
        }

        using var deadline = TimeProvider.System.CreateTimer(_ => CutOff(), null, DrainTime, Timeout.InfiniteTimeSpan);
        try
        {
            var buffer = new byte[16 * 1024];
            while (await ReadGuardedAsync(buffer, CancellationToken.None) > 0)
            {
            }

            return true;
        }
        catch (Exception e) when (e is BadHttpRequestException or IOException or OperationCanceledException or SubmissionRejectedException)
        {
            return false;
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await ReadGuardedAsync(buffer, cancellationToken);
        _read += read;
        if (_read > _limit)
        {
            throw new SubmissionRejectedException(SubmissionProblem.TooLarge);
        }

        if (_budget is { } budget)
        {
            await budget.TakeBytesAsync(read, cancellationToken);
        }

        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("witness posts are read asynchronously");

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <summary>Ends the pending read (and every later one) as stalled.</summary>
    private void CutOff()
    {
        _stalled = true;
        _pipe.CancelPendingRead();
    }

    private async ValueTask<int> ReadGuardedAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (_stalled)
        {
            throw new SubmissionRejectedException(SubmissionProblem.Stalled);
        }

        _stallTimer.Change(_stall, Timeout.InfiniteTimeSpan);
        try
        {
            // Straight from Kestrel's pipe, so that a read cut off by a stall is still ended properly (AdvanceTo):
            // its stream wrapper leaves the pipe mid-read, and Kestrel's draining afterwards fails.
            while (true)
            {
                var result = await _pipe.ReadAsync(cancellationToken);
                var data = result.Buffer;
                if (result.IsCanceled)
                {
                    _pipe.AdvanceTo(data.Start);
                    throw new SubmissionRejectedException(SubmissionProblem.Stalled);
                }

                var count = (int)Math.Min(buffer.Length, data.Length);
                data.Slice(0, count).CopyTo(buffer.Span);
                _pipe.AdvanceTo(data.GetPosition(count));
                if (count > 0 || result.IsCompleted)
                {
                    Ended |= count == 0;
                    return count;
                }
            }
        }
        finally
        {
            _stallTimer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }
}
