namespace SecureIntake.Web.Witness.Admission;

/// <summary>
/// What an admitted post holds: a slot, one of its token's posts, a post of the hour's budget and the bytes it
/// has read. <see cref="Kept"/> once its submission is committed; disposed without that, it gives everything back.
/// </summary>
internal sealed class AdmissionTicket(IntakeAdmission admission, string tokenNonce) : IDisposable
{
    /// <summary>
    /// Bytes are taken from the shared budget a mebibyte at a time rather than per read, so a large upload costs a
    /// database round trip per mebibyte, not per 16 KiB; what is taken and not read is given back at the end.
    /// </summary>
    internal const long BytesPerTake = 1 << 20;

    private readonly List<(DateTimeOffset Hour, long Bytes)> _taken = [];
    private long _takenNotRead;
    private bool _kept;
    private bool _disposed;

    internal bool HoldsTokenUse { get; set; }

    internal DateTimeOffset? PostHour { get; set; }

    internal bool HoldsSlot { get; set; }

    /// <summary>Counts bytes as they arrive; refused with the busy problem past the hour's budget.</summary>
    public async ValueTask TakeBytesAsync(long bytes, CancellationToken cancellationToken)
    {
        if (bytes <= _takenNotRead)
        {
            _takenNotRead -= bytes;
            return;
        }

        var needed = bytes - _takenNotRead;
        var ask = Math.Min(Math.Max(needed, BytesPerTake), admission.Budget.MaxBytes);
        var (hour, retryAfter) = await admission.Budget.TryTakeAsync(0, ask, cancellationToken);
        if (hour is null && ask > needed)
        {
            // Near the end of the budget a whole mebibyte may not fit where this read does.
            ask = needed;
            (hour, retryAfter) = await admission.Budget.TryTakeAsync(0, ask, cancellationToken);
        }

        if (hour is not { } taken)
        {
            throw new SubmissionRejectedException(SubmissionProblem.Busy, retryAfter);
        }

        if (_taken.Count > 0 && _taken[^1].Hour == taken)
        {
            _taken[^1] = (taken, _taken[^1].Bytes + ask);
        }
        else
        {
            _taken.Add((taken, ask));
        }

        _takenNotRead = ask - needed;
    }

    /// <summary>The post was committed: what it took stays spent.</summary>
    public void Kept() => _kept = true;

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (HoldsSlot)
        {
            admission.ReleaseSlot();
        }

        if (_kept)
        {
            // What was taken ahead and never read was taken last, so it all lies in the last hour taken from.
            if (_taken.Count > 0 && _takenNotRead > 0)
            {
                admission.Budget.Refund(_taken[^1].Hour, posts: 0, _takenNotRead);
            }

            return;
        }

        if (HoldsTokenUse)
        {
            admission.ReleaseTokenUse(tokenNonce);
        }

        var refunds = _taken.GroupBy(t => t.Hour).ToDictionary(g => g.Key, g => (Posts: 0L, Bytes: g.Sum(t => t.Bytes)));
        if (PostHour is { } postHour)
        {
            refunds[postHour] = (1, refunds.TryGetValue(postHour, out var bytes) ? bytes.Bytes : 0);
        }

        foreach (var (hour, (posts, bytes)) in refunds)
        {
            admission.Budget.Refund(hour, posts, bytes);
        }
    }
}
