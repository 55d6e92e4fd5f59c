using SecureIntake.Mail.Ingest;

namespace SecureIntake.Mail.Tests;

/// <summary>The gateway's own encryption threads: work runs off the pool, at a lower priority, and a failure stays with its message.</summary>
public sealed class EncryptionThreadsTests
{
    [Fact]
    public async Task Encryption_runs_on_the_threads_own_at_a_lower_priority_than_the_process()
    {
        using var threads = new EncryptionThreads(2);
        var (onPool, name, nice) = await threads.Run(() => Task.FromResult((Thread.CurrentThread.IsThreadPoolThread, Thread.CurrentThread.Name, ThreadNice())));

        Assert.False(onPool);
        Assert.Equal("mail encryption", name);
        Assert.True(nice > ThreadNice(), $"the encryption thread runs at nice {nice}, the test's thread at {ThreadNice()}");
    }

    [Fact]
    public async Task A_failing_encryption_fails_its_own_task_and_the_threads_go_on_with_the_next()
    {
        using var threads = new EncryptionThreads(1);
        var failing = threads.Run<int>(() => throw new InvalidDataException("this message"));
        var next = threads.Run(() => Task.FromResult(42));

        var failure = await Assert.ThrowsAsync<InvalidDataException>(() => failing);
        Assert.Equal("this message", failure.Message);
        Assert.Equal(42, await next);
    }

    [Fact]
    public async Task Disposing_lets_every_encryption_given_finish_first()
    {
        var finished = 0;
        var tasks = new List<Task<int>>();
        using (var threads = new EncryptionThreads(2))
        {
            for (var i = 0; i < 20; i++)
            {
                tasks.Add(threads.Run(async () =>
                {
                    await Task.Delay(5);
                    return Interlocked.Increment(ref finished);
                }));
            }
        }

        Assert.Equal(20, finished);
        Assert.Equal(20, (await Task.WhenAll(tasks)).Distinct().Count());
    }

    /// <summary>The calling thread's nice value, from /proc (field 19 of its stat line).</summary>
    private static int ThreadNice()
    {
        var stat = File.ReadAllText($"/proc/thread-self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(fields[19 - 3], System.Globalization.CultureInfo.InvariantCulture);
    }
}
