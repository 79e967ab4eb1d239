namespace Umcg.Scheduling;

// Test hooks: read-only views of the scheduler's inner state for the tests (InternalsVisibleTo).
public sealed partial class UmcgScheduler
{
    /// <summary>
    /// Workers waiting to run on <paramref name="server"/>: in its run queue, or on its runnable list (a quiet
    /// arrival waits there until someone drains it). A worker between the two while a drain moves it is in neither.
    /// </summary>
    internal int QueuedForTests(int server) => Servers[server].QueueLength + Servers[server].ListedForTests;

    internal ServerCounters CountersForTests(int server) => Servers[server].Counters;

    internal int WorkerThreadCountForTests => WorkerThreadCount;

    /// <summary>Every thread the scheduler started and still knows (servers, and worker threads not yet exited).</summary>
    internal IEnumerable<Thread> ThreadsForTests() => Servers.Select(s => s.Thread).Concat(_workersByTid.Values.Select(w => w.Thread));

    /// <summary>
    /// Run by a pooled thread between its offer to the kernel half and its CAS to Asleep (WorkerThread.WaitInPool), for
    /// tests that hold it there while a releaser claims it; returns true to go on.
    /// </summary>
    internal Func<WorkerThread, bool>? AfterIdleOfferForTests { get; set; }

    /// <summary>
    /// Run by a thread that drains a server's runnable list off that server's thread (a worker's H1, a thief's look),
    /// after it took the entries (their TIDs, newest first) and before it queues them: tests hold it there while the
    /// server's worker stops.
    /// </summary>
    internal Action<Server, IReadOnlyList<int>>? AfterListTakenOffServerForTests { get; set; }

    /// <summary>Idle pooled threads asleep in the kernel half (K11), which a spawn queues without waking.</summary>
    internal int IdleAsleepForTests
    {
        get
        {
            lock (_poolLock)
            {
                return _idle.Values.Sum(pool => pool.Count(w => w.IsAsleepInPoolForTests));
            }
        }
    }

    /// <summary>Callers waiting for room now (their bodies not admitted yet).</summary>
    internal int AdmissionWaiterCountForTests
    {
        get
        {
            lock (_poolLock)
            {
                return _waiters.Count;
            }
        }
    }

    /// <summary>
    /// For a stall report: every server (state, slot, run queue, inbox, runnable list, timers) and every worker thread
    /// (kernel state, park word, which queue holds it), one line each.
    /// </summary>
    internal string DescribeForTests() =>
        string.Join(
            Environment.NewLine,
            Servers.Select(s => s.DescribeForTests())
                .Concat(_workersByTid.Values.OrderBy(w => w.Tid).Select(w => w.DescribeForTests())));
}
