namespace SecureIntake.Web.Witness.Admission;

/// <summary>
/// What an admitted post holds: a slot, one of its token's posts, a post of the hour's budget and the bytes it
/// has read. <see cref="Kept"/> once its submission is committed; disposed without that, it gives everything back.
/// </summary>
internal sealed class AdmissionTicket(IntakeAdmission admission, string tokenNonce) : IDisposable
{
    private readonly List<(long Minute, long Bytes)> _bytes = [];
    private bool _kept;
    private bool _disposed;

    internal bool HoldsTokenUse { get; set; }

    internal long? PostMinute { get; set; }

    internal bool HoldsSlot { get; set; }

    /// <summary>Counts bytes as they arrive; refused with the busy problem past the hour's budget.</summary>
    public void TakeBytes(long bytes)
    {
        if (bytes == 0)
        {
            return;
        }

        var minute = admission.Budget.TryTakeBytes(bytes, out var retryAfter) ?? throw new SubmissionRejectedException(SubmissionProblem.Busy, retryAfter);
        if (_bytes.Count > 0 && _bytes[^1].Minute == minute)
        {
            _bytes[^1] = (minute, _bytes[^1].Bytes + bytes);
        }
        else
        {
            _bytes.Add((minute, bytes));
        }
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
            return;
        }

        if (HoldsTokenUse)
        {
            admission.ReleaseTokenUse(tokenNonce);
        }

        if (PostMinute is { } minute)
        {
            admission.Budget.Refund(minute, posts: 1, bytes: 0);
        }

        foreach (var (bytesMinute, bytes) in _bytes)
        {
            admission.Budget.Refund(bytesMinute, posts: 0, bytes);
        }
    }
}
