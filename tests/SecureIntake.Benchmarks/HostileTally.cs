namespace SecureIntake.Benchmarks;

/// <summary>The four ways the attack holds the witness form's connections.</summary>
internal enum HostileKind
{
    /// <summary>The request headers of a multipart post declaring 1 GiB, then nothing.</summary>
    IdleAfterHeaders,

    /// <summary>The same headers and the first boundary line, then nothing.</summary>
    IdleAfterBoundary,

    /// <summary>The same headers, then one byte of body every 10 s.</summary>
    Dribbling,

    /// <summary>One form page's cookie and token, posted again and again with a small message.</summary>
    Reposting,
}

/// <summary>What the connections of one hostile kind saw, added to by many connections at once.</summary>
internal sealed class HostileTally(HostileKind kind)
{
    private readonly Lock _lock = new();
    private readonly SortedDictionary<string, int> _answers = new(StringComparer.Ordinal);
    private int _openNow;

    public HostileKind Kind { get; } = kind;

    public int Opened { get; private set; }

    public int ConnectFailures { get; private set; }

    public int ClosedByServer { get; private set; }

    /// <summary>Time from connect to the server closing it, the longest of all connections the server closed.</summary>
    public TimeSpan LongestHeldByServer { get; private set; }

    public int OpenAtEnd { get; private set; }

    public TimeSpan LongestOpenAtEnd { get; private set; }

    public int PostsAccepted { get; private set; }

    public int PostsRefused { get; private set; }

    public int OpenNow => Volatile.Read(ref _openNow);

    /// <summary>What the server answered, by status ("none" when it closed without a word), with counts.</summary>
    public IReadOnlyList<KeyValuePair<string, int>> Answers()
    {
        lock (_lock)
        {
            return [.. _answers];
        }
    }

    public void ConnectFailed()
    {
        lock (_lock)
        {
            ConnectFailures++;
        }
    }

    public void Connected()
    {
        Interlocked.Increment(ref _openNow);
        lock (_lock)
        {
            Opened++;
        }
    }

    /// <summary>A connection ended: closed by the server, or still open when the attack stopped.</summary>
    public void Ended(TimeSpan held, bool closedByServer)
    {
        Interlocked.Decrement(ref _openNow);
        lock (_lock)
        {
            if (closedByServer)
            {
                ClosedByServer++;
                LongestHeldByServer = held > LongestHeldByServer ? held : LongestHeldByServer;
            }
            else
            {
                OpenAtEnd++;
                LongestOpenAtEnd = held > LongestOpenAtEnd ? held : LongestOpenAtEnd;
            }
        }
    }

    public void Answered(string answer)
    {
        lock (_lock)
        {
            _answers[answer] = _answers.GetValueOrDefault(answer) + 1;
        }
    }

    public void Posted(bool accepted)
    {
        lock (_lock)
        {
            if (accepted)
            {
                PostsAccepted++;
            }
            else
            {
                PostsRefused++;
            }
        }
    }
}
