using Microsoft.Extensions.Logging;
using SecureIntake.Crypto.Encryption;
using SecureIntake.Crypto.Keys;

namespace SecureIntake.Core.Recipients;

/// <summary>
/// Whether every desk can encrypt right now, and which keys are about to stop working. Run at start-up
/// (the service refuses to take submissions it could not encrypt) and daily as a Hangfire job, so that
/// an expiring encryption subkey is noticed weeks before it would stop intake.
/// </summary>
public sealed partial class RecipientKeyCheck(RecipientStore store, TimeProvider clock, ILogger<RecipientKeyCheck> logger)
{
    /// <summary>Problems that stop intake: a desk with no usable key. Every usable key also encrypts a test message.</summary>
    public async Task<IReadOnlyList<string>> FindBlockingProblemsAsync(CancellationToken cancellationToken) =>
        [.. (await DesksWithoutUsableKeyAsync(cancellationToken).ConfigureAwait(false)).Select(Describe)];

    /// <summary>The desks that cannot take a submission for want of a usable key. Every usable key also encrypts a test message.</summary>
    public async Task<IReadOnlyList<string>> DesksWithoutUsableKeyAsync(CancellationToken cancellationToken)
    {
        var recipients = await store.ListAsync(cancellationToken).ConfigureAwait(false);
        var problems = new List<string>();
        foreach (var desk in await store.DeskNamesAsync(cancellationToken).ConfigureAwait(false))
        {
            var usable = recipients.Where(r => r.Desk == desk && r.Verdict.IsUsable).Select(r => r.Verdict.Key!).ToList();
            if (usable.Count == 0)
            {
                problems.Add(desk);
                continue;
            }

            await using var probe = await OpenPgpEncryptingStream.OpenAsync(Stream.Null, usable, cancellationToken).ConfigureAwait(false);
            await probe.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }

        return problems;
    }

    /// <summary>A desk without a usable key, in English, for the command line and the log.</summary>
    public static string Describe(string desk) => $"desk '{desk}' has no usable recipient key; add one with `secureintake keys add FILE --desk {desk}`";

    /// <summary>The daily job: logs keys that no longer work and keys that expire soon (fingerprints only).</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        foreach (var recipient in await store.ListAsync(cancellationToken).ConfigureAwait(false))
        {
            if (recipient.Verdict.Key is not { } key)
            {
                LogUnusable(logger, recipient.Fingerprint, recipient.Desk, recipient.Verdict.RefusalReason!);
            }
            else if (KeyExpiry.Near(key, now) is { } expires)
            {
                LogExpiresSoon(logger, recipient.Fingerprint, recipient.Desk, expires);
            }
        }

        foreach (var problem in await FindBlockingProblemsAsync(cancellationToken).ConfigureAwait(false))
        {
            LogBlocking(logger, problem);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Recipient key {Fingerprint} of desk {Desk} can no longer be encrypted to: {Reason}")]
    private static partial void LogUnusable(ILogger logger, string fingerprint, string desk, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recipient key {Fingerprint} of desk {Desk} expires on {Expires:yyyy-MM-dd}; ask its owner for an extended key")]
    private static partial void LogExpiresSoon(ILogger logger, string fingerprint, string desk, DateTimeOffset expires);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Intake is blocked: {Problem}")]
    private static partial void LogBlocking(ILogger logger, string problem);
}
