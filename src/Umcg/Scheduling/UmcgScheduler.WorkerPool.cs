using System.Collections.Concurrent;
using Umcg.Kernel.Detection;

namespace Umcg.Scheduling;

// The worker-thread pool. A worker thread holds a slot from the moment it is decided on until its last step on the
// way out, whatever it does in between (running, blocked, runnable, idle in the pool), so _workerThreads never
// exceeds Options.MaxWorkers. The slot count's increments and the idle stacks change under _poolLock only.
//
// How a body reaches a thread, oldest first:
//   - at spawn: an idle thread of its stack size, else a new thread if a slot is free and nothing waits before it;
//   - a worker thread that finished a body takes the oldest waiting body if the stack sizes match, else it exits
//     (it never goes idle while a body waits) and the slot it frees goes to that body, on a new thread;
//   - a body queued while idle threads of another stack size sit in the pool evicts one of them, for the same reason.
// Hence no body waits while a thread that could run it sits idle, and a waiting body always has a thread coming.
public sealed partial class UmcgScheduler
{
    // Idle worker threads by stack size, each a stack (top at the end), and how many in all; under _poolLock. A
    // finished thread pools itself only while no body waits for a thread.
    private readonly Dictionary<int, List<WorkerThread>> _idle = [];
    private int _idleCount;

    // How deep under the top of an idle stack TakeIdleLocked looks for a thread last on the body's server.
    private const int SameServerSearch = 8;

    // Worker threads that hold a slot: decided on (under _poolLock) and not yet gone. Interlocked although its
    // increments happen under the lock: shutdown and exiting threads read and decrement it without the lock.
    private int _workerThreads;

    // Running worker threads by TID (registered ones), for the detector and for lookups by TID.
    private readonly ConcurrentDictionary<int, WorkerThread> _workersByTid = new();

    internal int WorkerThreadCount => Volatile.Read(ref _workerThreads);

    /// <summary>The name every worker thread carries: one string for all of them, not one each.</summary>
    internal string WorkerThreadName { get; }

    /// <summary>Workers in the background now (their TF_BACKGROUND, read once each): O(worker threads), for a gauge.</summary>
    internal int BackgroundWorkerCount => _workersByTid.Values.Count(static w => w.IsInBackground);

    /// <summary>Worker threads idle in the pool now, waiting for a body.</summary>
    internal int IdleWorkerThreadCount
    {
        get
        {
            lock (_poolLock)
            {
                return _idleCount;
            }
        }
    }

    /// <summary>Takes a slot for a new worker thread. Interlocked although under the lock: shutdown and the exiting threads read the count without it.</summary>
    private void TakeSlotLocked() => Stats.NoteWorkerThreads(Interlocked.Increment(ref _workerThreads));

    /// <summary>
    /// An idle thread to end so that its slot goes to a waiting body: every idle thread then has another stack size
    /// than the waiting bodies (see <see cref="PlaceLocked"/>), so none of them could run it.
    /// </summary>
    private WorkerThread? TakeIdleToEvictLocked()
    {
        foreach (var pool in _idle.Values)
        {
            if (pool.Count > 0)
            {
                return TakeIdleAtLocked(pool, pool.Count - 1);
            }
        }

        return null;
    }

    /// <summary>
    /// An idle thread of <paramref name="pool"/> for a body bound for <paramref name="server"/>: the most recently pooled
    /// (its stack and data are the warmest), unless one of the few under it last ran on that server. A thread that
    /// changes servers is pinned to the new server's CPU as it is run — a system call, and a migration — which in a
    /// stream of short bodies from a request thread cost one body in two.
    /// </summary>
    private WorkerThread TakeIdleLocked(List<WorkerThread> pool, Server server)
    {
        int top = pool.Count - 1;
        for (int i = top; i >= 0 && i > top - SameServerSearch; i--)
        {
            // Server is written only while a thread is off the pool (by its releaser, or by itself before it pooled
            // itself under this lock), so it is stable here.
            if (ReferenceEquals(pool[i].Server, server))
            {
                return TakeIdleAtLocked(pool, i);
            }
        }

        return TakeIdleAtLocked(pool, top);
    }

    private WorkerThread TakeIdleAtLocked(List<WorkerThread> pool, int index)
    {
        var worker = pool[index];
        pool.RemoveAt(index); // near the top: a short move
        _idleCount--;
        return worker;
    }

    /// <summary>
    /// A worker thread finished a body and is BLOCKED (off its server's CPU): it takes the oldest waiting body if
    /// it can run it (same stack size), else it goes idle in the pool, or, when a body it cannot run waits, when
    /// the pool is full, or at shutdown, it should exit (its slot then goes to the waiting body).
    /// </summary>
    internal AfterBody NextFor(WorkerThread worker)
    {
        WorkItem? next = null;
        AdmissionWaiter? admitted = null;
        var outcome = AfterBody.Exit;
        lock (_poolLock)
        {
            if (PeekWaitingLocked() is { } head)
            {
                if (head.Options.StackSize == worker.StackSize)
                {
                    next = TakeWaitingLocked(out admitted);
                    outcome = AfterBody.Run;
                }
            }
            else if (_accepting && _idleCount < Options.MaxIdleWorkers)
            {
                if (!_idle.TryGetValue(worker.StackSize, out var pool))
                {
                    pool = [];
                    _idle[worker.StackSize] = pool;
                }

                worker.OnPooledLocked();
                pool.Add(worker);
                _idleCount++;
                outcome = AfterBody.Idle;
            }
        }

        admitted?.Complete();
        if (next is not null)
        {
            // The worker is BLOCKED, so it may move to the body's server (the kernel half reads server_tid when it
            // leaves its blocking region).
            AssignBody(worker, next, reused: true);
        }

        return outcome;
    }

    /// <summary>
    /// A worker thread's slot is free: its thread left (or never started). The oldest waiting body gets a new
    /// thread in that slot; with none waiting, the count drops.
    /// </summary>
    private void ReleaseSlot()
    {
        while (true)
        {
            WorkItem? next;
            AdmissionWaiter? admitted;
            bool last = false;
            lock (_poolLock)
            {
                next = TakeWaitingLocked(out admitted);
                if (next is null)
                {
                    last = Interlocked.Decrement(ref _workerThreads) == 0;
                }
            }

            admitted?.Complete();
            if (next is null)
            {
                if (last)
                {
                    OnLastWorkerThreadGone();
                }

                return;
            }

            if (TryStartWorkerThread(next) is not { } refused)
            {
                return;
            }

            // The body was admitted: its handle carries the refusal. The slot is still ours; if other worker threads
            // remain they serve the rest of the queue as they finish, else try again for the next waiting body.
            Stats.CountThreadLimit();
            Abandon(next, refused);
            lock (_poolLock)
            {
                if (_workerThreads > 1)
                {
                    Interlocked.Decrement(ref _workerThreads);
                    return;
                }
            }
        }
    }

    /// <summary>Starts a new worker thread, in a slot already taken, for a body admitted at spawn; a refusal undoes the spawn.</summary>
    /// <exception cref="UmcgThreadLimitException">The OS refused the thread; the body was never outstanding.</exception>
    private void StartNewWorkerThread(WorkItem item)
    {
        if (TryStartWorkerThread(item) is not { } refused)
        {
            return;
        }

        // Undo our own counts in reverse order. The decrements are the same steps an exiting thread and a finished
        // body take, so a shutdown that began meanwhile still completes.
        ReleaseSlot();
        OnItemDone(); // never handed to a thread: not a completion, and not counted as one
        Stats.UncountSpawn();
        Stats.CountThreadLimit();
        throw refused;
    }

    /// <summary>
    /// Starts a new worker thread for <paramref name="item"/> in a slot already taken. When the OS refuses the
    /// thread nothing is left half-registered: the thread was never known, its block goes back to the spares, and
    /// every running worker is untouched. The slot stays taken: the caller decides what becomes of it.
    /// </summary>
    /// <returns>Null once started, else the refusal.</returns>
    private UmcgThreadLimitException? TryStartWorkerThread(WorkItem item)
    {
        var server = ServerFor(item);
        WorkerThread? worker = null;
        try
        {
            // The block (native memory) may be refused as well as the thread.
            worker = new WorkerThread(this, server, item.Options.StackSize);
            AssignBody(worker, item, reused: false);
            worker.Start();
            return null;
        }
        catch (Exception e) when (e is OutOfMemoryException or ThreadStartException)
        {
            if (worker is not null)
            {
                worker.Item = null;
                Blocks.Return(worker.Block);
            }

            return new UmcgThreadLimitException(e);
        }
    }

    /// <summary>
    /// Gives <paramref name="item"/> to a worker thread that is not running (new, idle, or just finished) on the body's
    /// server: <paramref name="server"/> when the caller chose it already, else the thread's own (new) or the body's.
    /// </summary>
    private void AssignBody(WorkerThread worker, WorkItem item, bool reused, Server? server = null)
    {
        server ??= reused ? ServerFor(item) : worker.Server;
        Telemetry.Spawned(item.Options.Name, server, reused);
        if (reused)
        {
            worker.MoveTo(server);
        }

        worker.Assign(item);
    }

    /// <summary>What a worker thread does after a body (see <see cref="NextFor"/>).</summary>
    internal enum AfterBody
    {
        /// <summary>Run the body just handed to it.</summary>
        Run,

        /// <summary>Wait in the idle pool.</summary>
        Idle,

        /// <summary>Leave (its slot goes to a waiting body, if any).</summary>
        Exit,
    }

    // A worker thread's own steps, called on that thread: known by its TID once it runs, forgotten as it leaves.

    /// <summary>The worker thread with this TID, while it is registered.</summary>
    internal bool TryGetWorker(int tid, out WorkerThread worker) => _workersByTid.TryGetValue(tid, out worker!);

    /// <summary>The thread runs and knows its TID; it has not registered yet.</summary>
    internal void OnWorkerThreadStarting(WorkerThread worker)
    {
        _workersByTid[worker.Tid] = worker;

        // Before the thread first runs for a server, so that its switch records cover every run. RunStartNs
        // is stamped each time the worker comes back from a kernel-half call to run its own code; the worker is
        // its own stamp (no delegate per worker).
        Detector?.AddWorker(worker.Tid, (IResumeStamp)worker);
    }

    /// <summary>The kernel half refused the thread's registration: its body fails, the thread leaves.</summary>
    internal void OnWorkerThreadFailedToRegister(WorkerThread worker, Exception error)
    {
        ReportFault(error);
        if (worker.Item is { } item)
        {
            Abandon(item, error);
        }

        OnWorkerThreadExited(worker);
    }

    /// <summary>The thread's last step: its block goes back to the pool and its slot to a waiting body, if any.</summary>
    internal void OnWorkerThreadExited(WorkerThread worker)
    {
        if (worker.Tid != 0)
        {
            _workersByTid.TryRemove(new KeyValuePair<int, WorkerThread>(worker.Tid, worker));
            Detector?.RemoveWorker(worker.Tid);
        }

        Blocks.Return(worker.Block);
        ReleaseSlot();
    }
}
