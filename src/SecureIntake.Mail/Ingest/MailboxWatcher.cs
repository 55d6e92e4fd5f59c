using System.Threading.Channels;
using MailKit;
using MailKit.Net.Imap;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SecureIntake.Core.Status;

namespace SecureIntake.Mail.Ingest;

/// <summary>Where a test may watch the watcher (and hold it at a pass).</summary>
internal enum WatcherStep
{
    /// <summary>About to connect and log in.</summary>
    Connecting,

    /// <summary>The folder is selected and an IDLE command is about to go out (again at every renewal).</summary>
    Idling,

    /// <summary>A drain pass is about to start; a hook that waits holds it here.</summary>
    PassStarting,

    /// <summary>A drain pass ended, whatever it did.</summary>
    PassFinished,

    /// <summary>Waiting before the next connection (the wait is passed along).</summary>
    BackingOff,
}

/// <summary>
/// Keeps one connection to the tips folder in IMAP IDLE (RFC 2177) and runs a drain pass (<see cref="ImapGateway.RunAsync"/>)
/// as soon as the server reports new mail, so a tip is taken in within seconds instead of at the next interval pass.
/// IDLE is only a wake-up: every connect runs a pass as well, since notices are lost while disconnected, and the
/// recurring interval pass stays as the fallback. It never fetches a message itself.
/// </summary>
public sealed partial class MailboxWatcher(IOptions<MailOptions> options, IServiceProvider services, ServiceStatus status, TimeProvider clock,
    ILogger<MailboxWatcher> logger) : BackgroundService
{
    /// <summary>
    /// RFC 2177 lets a server end an IDLE after 30 minutes, and NATs and firewalls forget a quiet connection after about
    /// ten; a renewal is also where a connection that died silently shows up.
    /// </summary>
    internal static readonly TimeSpan IdleRenewal = TimeSpan.FromMinutes(9);

    internal static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(2);

    internal static readonly TimeSpan LongestRetry = TimeSpan.FromMinutes(5);

    /// <summary>When another gateway held the mailbox, mail that arrived after its fetch would otherwise wait for the interval pass.</summary>
    internal static readonly TimeSpan LockedOutRetry = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(2);

    /// <summary>A connection that was idling this long was healthy: the next failure starts the back-off from the beginning.</summary>
    private static readonly TimeSpan Healthy = TimeSpan.FromMinutes(1);

    /// <summary>Between the starts of two passes: a trickle of junk is taken in batches, not at the cost of a login per message.</summary>
    private static readonly TimeSpan PassSpacing = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan PauseAfterFailedPass = TimeSpan.FromSeconds(30);

    // One slot: a notice while a pass runs leaves one pass pending, and every further notice finds the slot taken,
    // so a flood of EXISTS costs one pass running and one waiting, never a pass per message.
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    private int _notices;
    private long? _idlingSince;

    /// <summary>For tests: called at each step; a hook that waits holds the watcher there.</summary>
    internal Func<WatcherStep, TimeSpan, Task>? StepReached { get; set; }

    /// <summary>How many times the server reported more messages than before (for tests; no times, no contents).</summary>
    internal int NewMailNotices => Volatile.Read(ref _notices);

    /// <summary>Passes waiting to start: never more than one, however many notices came in.</summary>
    internal int PendingPasses => _wake.Reader.Count;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var imap = options.Value.Imap;
        if (!imap.Enabled || !imap.Idle)
        {
            return;
        }

        var draining = DrainWhenWokenAsync(stoppingToken);
        try
        {
            await WatchAsync(imap, stoppingToken).ConfigureAwait(false);
        }
        finally
        {
            _wake.Writer.TryComplete();
            await draining.ConfigureAwait(false);
        }
    }

    /// <summary>Connects, idles until the connection fails, and connects again after a back-off, until the host stops.</summary>
    private async Task WatchAsync(ImapOptions imap, CancellationToken stoppingToken)
    {
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            TimeSpan wait;
            try
            {
                // No login attempts while the gateway backs off (a wrong password must not turn into a lockout).
                wait = await GatewayBackOffAsync(stoppingToken).ConfigureAwait(false);
                if (wait == TimeSpan.Zero && !await WatchOneConnectionAsync(imap, stoppingToken).ConfigureAwait(false))
                {
                    LogNoIdle(logger, imap.IntervalMinutes);
                    return;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                failures = _idlingSince is { } since && clock.GetElapsedTime(since) >= Healthy ? 1 : failures + 1;
                wait = TimeSpan.FromTicks(Math.Min(LongestRetry.Ticks, FirstRetry.Ticks << Math.Min(failures - 1, 20)));
                // The kind only: nothing a server or a message said.
                LogConnectionLost(logger, e.GetType().Name, (int)wait.TotalSeconds);
            }

            _idlingSince = null;
            if (!await WaitAsync(wait, stoppingToken).ConfigureAwait(false))
            {
                return;
            }
        }
    }

    /// <summary>Returns false when the server has no IDLE; otherwise idles until the connection fails or the host stops.</summary>
    private async Task<bool> WatchOneConnectionAsync(ImapOptions imap, CancellationToken stoppingToken)
    {
        await StepAsync(WatcherStep.Connecting).ConfigureAwait(false);
        using var client = new ImapClient();
        try
        {
            await ImapGateway.ConnectAsync(client, imap, stoppingToken).ConfigureAwait(false);
            if (!client.Capabilities.HasFlag(ImapCapabilities.Idle))
            {
                return false;
            }

            // Read-only: the watcher never changes the folder, and EXAMINE leaves \Recent and the flags alone.
            var folder = await client.GetFolderAsync(imap.Folder, stoppingToken).ConfigureAwait(false);
            await folder.OpenAsync(FolderAccess.ReadOnly, stoppingToken).ConfigureAwait(false);
            var known = folder.Count;
            // Raised inside IdleAsync on this connection's own flow; only a growing count means mail arrived (a pass
            // expunging shows up here too, as a shrinking one).
            folder.CountChanged += (_, _) =>
            {
                if (folder.Count > known)
                {
                    Interlocked.Increment(ref _notices);
                    Wake();
                }

                known = folder.Count;
            };
            Wake(); // whatever arrived while there was no connection

            while (true)
            {
                using var done = new CancellationTokenSource(IdleRenewal, clock);
                // DONE first on shutdown, so the server sees a clean end; the cancellation below covers a server that never answers.
                using var stopping = stoppingToken.Register(done.Cancel);
                // The usual timeout would end a quiet IDLE; a connection that died shows at the renewal at the latest.
                client.Timeout = (int)(IdleRenewal + CommandTimeout).TotalMilliseconds;
                _idlingSince ??= clock.GetTimestamp();
                await StepAsync(WatcherStep.Idling).ConfigureAwait(false);
                await client.IdleAsync(done.Token, stoppingToken).ConfigureAwait(false);
                stoppingToken.ThrowIfCancellationRequested();
                client.Timeout = (int)CommandTimeout.TotalMilliseconds;
            }
        }
        finally
        {
            await LogOutAsync(client).ConfigureAwait(false);
        }
    }

    private static async Task LogOutAsync(ImapClient client)
    {
        if (!client.IsConnected)
        {
            return;
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await client.DisconnectAsync(quit: true, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ImapProtocolException or ImapCommandException
            or System.Net.Sockets.SocketException or ServiceNotConnectedException)
        {
            // Going away anyway; the server drops the session on its own.
        }
    }

    private void Wake() => _wake.Writer.TryWrite(true);

    /// <summary>Runs a pass per wake-up, one at a time, until the watcher stops.</summary>
    private async Task DrainWhenWokenAsync(CancellationToken stoppingToken)
    {
        try
        {
            long? lastStart = null;
            while (await _wake.Reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
            {
                // Waited out before the wake-up is taken, so the notices of this second join it rather than queue another pass.
                var sinceLast = lastStart is { } start ? clock.GetElapsedTime(start) : PassSpacing;
                if (sinceLast < PassSpacing)
                {
                    await Task.Delay(PassSpacing - sinceLast, clock, stoppingToken).ConfigureAwait(false);
                }

                _wake.Reader.TryRead(out _);
                lastStart = clock.GetTimestamp();
                if (await PassAsync(stoppingToken).ConfigureAwait(false))
                {
                    await Task.Delay(LockedOutRetry, clock, stoppingToken).ConfigureAwait(false);
                    Wake();
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping; an interrupted pass leaves nothing half done (see ImapGateway).
        }
    }

    /// <summary>One drain pass; returns whether another gateway held the mailbox, so this one should look again shortly.</summary>
    private async Task<bool> PassAsync(CancellationToken stoppingToken)
    {
        await StepAsync(WatcherStep.PassStarting).ConfigureAwait(false);
        var lockedOut = false;
        try
        {
            // The gateway records mail server failures for the desk and backs off itself; what reaches here is the rest.
            var gateway = services.GetRequiredService<ImapGateway>();
            await gateway.RunAsync(stoppingToken).ConfigureAwait(false);
            lockedOut = gateway.LockedOut;
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested)
        {
            LogPassFailed(logger, e.GetType().Name);
            await Task.Delay(PauseAfterFailedPass, clock, stoppingToken).ConfigureAwait(false);
        }

        await StepAsync(WatcherStep.PassFinished).ConfigureAwait(false);
        return lockedOut;
    }

    /// <summary>How long the gateway's recorded back-off still runs (zero when it does not).</summary>
    private async Task<TimeSpan> GatewayBackOffAsync(CancellationToken cancellationToken)
    {
        var gateway = (await status.ListAsync(cancellationToken).ConfigureAwait(false)).FirstOrDefault(s => s.Component == ImapGateway.Component);
        var left = gateway?.RetryAfter - clock.GetUtcNow();
        return left > TimeSpan.Zero ? TimeSpan.FromTicks(Math.Min(left.Value.Ticks, ServiceStatus.LongestBackOff.Ticks)) : TimeSpan.Zero;
    }

    /// <summary>Returns false when the host stopped meanwhile.</summary>
    private async Task<bool> WaitAsync(TimeSpan wait, CancellationToken stoppingToken)
    {
        if (wait <= TimeSpan.Zero)
        {
            return !stoppingToken.IsCancellationRequested;
        }

        // The timer is set before the hook runs, so a test that moves a fake clock from the hook on cannot miss it.
        var waiting = Task.Delay(wait, clock, stoppingToken);
        await StepAsync(WatcherStep.BackingOff, wait).ConfigureAwait(false);
        try
        {
            await waiting.ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private Task StepAsync(WatcherStep step, TimeSpan wait = default) => StepReached?.Invoke(step, wait) ?? Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "The mail server offers no IMAP IDLE: mail is taken in by the interval pass only, every {Minutes} minutes")]
    private static partial void LogNoIdle(ILogger logger, int minutes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The mailbox watcher lost its connection ({Kind}); it connects again in {Seconds} seconds")]
    private static partial void LogConnectionLost(ILogger logger, string kind, int seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A mail pass woken by IDLE failed ({Kind}); the next wake-up or the interval pass tries again")]
    private static partial void LogPassFailed(ILogger logger, string kind);
}
