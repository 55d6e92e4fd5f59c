using System.Runtime.InteropServices;

namespace SecureIntake.Mail.Ingest;

/// <summary>
/// Threads of a gateway pass's own for encrypting messages, at a lower scheduling priority than the rest of the process.
/// Encryption is the pass's bulk work; on the thread pool it held every thread for milliseconds at a time, so the FETCH
/// reading the next messages and the commit's database round trips each waited behind it (a batch's commit took 50 to 70
/// ms, most of it queued). Here the kernel lets those run the moment they are ready, and encryption takes what is left.
/// A message's encryption runs start to end on one of these threads: its reads come from memory and its blob writes go to
/// the page cache, so nothing in it waits for long. What follows it (ending its task, freeing its slot) runs on one more
/// thread at the process's own priority: a thread Linux creates inherits its creator's nice value, and the thread pool
/// starts its threads from whichever thread hands it work, so work handed over from here would leave the pool lowered
/// for good (and an unprivileged thread cannot raise itself back).
/// </summary>
internal sealed partial class EncryptionThreads : IDisposable
{
    // Nice 10: a tenth of a normal thread's share when both want a core, never less than what is idle.
    private const int LowerPriority = 10;
    private const int PriorityOfProcess = 0; // PRIO_PROCESS: with who = 0, the calling thread on Linux

    private readonly HandOff _work = new();
    private readonly HandOff _finishing = new();
    private readonly Thread[] _threads;
    private readonly Thread _finisher;

    public EncryptionThreads(int count)
    {
        _threads = [.. Enumerable.Range(0, count).Select(i => new Thread(Work) { IsBackground = true, Name = "mail encryption" })];
        _finisher = new Thread(Finish) { IsBackground = true, Name = "mail encryption done" };
        _finisher.Start();
        foreach (var thread in _threads)
        {
            thread.Start();
        }
    }

    /// <summary>
    /// Runs <paramref name="encrypt"/> on one of the threads, then <paramref name="afterwards"/> at the process's priority; the
    /// task ends after both, with the encryption's result or failure.
    /// </summary>
    public Task<T> Run<T>(Func<Task<T>> encrypt, Action? afterwards = null)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _work.Add(() =>
        {
            Action<TaskCompletionSource<T>> end;
            try
            {
                var result = encrypt().GetAwaiter().GetResult();
                end = d => d.SetResult(result);
            }
            catch (Exception e)
            {
                end = d => d.SetException(e);
            }

            _finishing.Add(() =>
            {
                try
                {
                    afterwards?.Invoke();
                }
                finally
                {
                    end(done);
                }
            });
        });
        return done.Task;
    }

    /// <summary>Lets the threads finish what was given to them, then ends them.</summary>
    public void Dispose()
    {
        _work.CompleteAdding();
        foreach (var thread in _threads)
        {
            thread.Join();
        }

        _finishing.CompleteAdding();
        _finisher.Join();
    }

    private void Finish()
    {
        while (_finishing.Take() is { } finish)
        {
            finish();
        }
    }

    private void Work()
    {
        try
        {
            _ = setpriority(PriorityOfProcess, 0, LowerPriority); // best effort: where it fails, the threads run at normal priority
        }
        catch (EntryPointNotFoundException)
        {
            // Not Linux.
        }

        while (_work.Take() is { } encrypt)
        {
            encrypt();
        }
    }

    /// <summary>
    /// Work handed to the threads, first in first out. A thread with nothing to do sleeps at once: BlockingCollection spins
    /// and yields for a while before it sleeps, and with a thread more than the cores, an idle encryption thread kept
    /// yielding to the FETCH and the commits in a loop (about 2 % of a pass's CPU).
    /// </summary>
    private sealed class HandOff
    {
        private readonly Queue<Action> _items = new();
        private bool _completed;

        public void Add(Action item)
        {
            lock (_items)
            {
                if (_completed)
                {
                    throw new InvalidOperationException("the encryption threads are ending: nothing more can be given to them");
                }

                _items.Enqueue(item);
                Monitor.Pulse(_items);
            }
        }

        public void CompleteAdding()
        {
            lock (_items)
            {
                _completed = true;
                Monitor.PulseAll(_items);
            }
        }

        /// <summary>The next item, waiting for one; null once adding is complete and every item was taken.</summary>
        public Action? Take()
        {
            lock (_items)
            {
                while (_items.Count == 0 && !_completed)
                {
                    Monitor.Wait(_items);
                }

                return _items.TryDequeue(out var item) ? item : null;
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static partial int setpriority(int which, int who, int priority);
}
