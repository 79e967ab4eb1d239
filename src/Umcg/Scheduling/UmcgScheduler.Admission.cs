using Umcg.Diagnostics;

namespace Umcg.Scheduling;

// Admission control and the worker-thread pool. A worker thread holds a slot from the moment it is decided on
// until its last step on the way out, whatever it does in between (running, blocked, runnable, idle in the pool),
// so _workerThreads never exceeds Options.MaxWorkers. A body that finds no idle thread and no free slot is queued
// (up to Options.MaxQueuedBodies), and past that its caller waits for room or is refused (Options.Admission).
//
// Everything below that decides — the slot count's increments, the idle pool, the queue, the waiters, whether the
// scheduler still accepts work — happens under _poolLock, and each decision is carried out after the lock is
// released (a thread started, an idle thread released, a waiter completed), so no lock is held across a thread
// start, a kernel-half call or a continuation.
//
// How a body reaches a thread, oldest first:
//   - at spawn: an idle thread of its stack size, else a new thread if a slot is free and nothing waits before it;
//   - a worker thread that finished a body takes the oldest waiting body if the stack sizes match, else it exits
//     (it never goes idle while a body waits) and the slot it frees goes to that body, on a new thread;
//   - a body queued while idle threads of another stack size sit in the pool evicts one of them, for the same reason.
// Hence no body waits while a thread that could run it sits idle, and a waiting body always has a thread coming.
public sealed partial class UmcgScheduler
{
    // Bodies admitted but not yet on a thread (the worker bound was reached), oldest first. Under _poolLock.
    private readonly LinkedList<WorkItem> _queued = new();

    // Callers waiting for room (Wait mode, both bounds reached), oldest first; their bodies are not admitted yet
    // (neither counted in _outstanding nor in Stats.Spawned). Under _poolLock.
    private readonly LinkedList<AdmissionWaiter> _waiters = new();

    private enum Placement
    {
        /// <summary>No room: the caller waits or is refused.</summary>
        None,

        /// <summary>An idle pooled thread runs it.</summary>
        Idle,

        /// <summary>A new thread, in a slot just taken, runs it.</summary>
        NewThread,

        /// <summary>It waits in the queue for a thread.</summary>
        Queued,
    }

    /// <summary>Bodies admitted and waiting for a worker thread now.</summary>
    internal int QueuedBodyCount
    {
        get
        {
            lock (_poolLock)
            {
                return _queued.Count;
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
    /// Admits <paramref name="item"/> within the bounds: at once (started, or queued for a thread), or — past both
    /// bounds in Wait mode — as a task that completes when it is. A posted callback (<paramref name="posted"/>) is
    /// never held back: it is queued past the queue's bound.
    /// </summary>
    /// <returns>The handle (or the wait for it); null if the scheduler no longer accepts work.</returns>
    /// <exception cref="UmcgAdmissionRejectedException">Past both bounds in Reject mode; nothing of the body is kept.</exception>
    /// <exception cref="UmcgThreadLimitException">The OS refused a new thread; the body is forgotten as if never offered.</exception>
    private ValueTask<WorkerHandle>? TryAdmit(WorkItem item, bool posted)
    {
        if (item.Token.IsCancellationRequested)
        {
            // Like Task.Run with a canceled token: a canceled handle, and the body never runs.
            CancelUnadmitted(item);
            return new ValueTask<WorkerHandle>(item.Handle);
        }

        Placement placement;
        WorkerThread? worker;
        AdmissionWaiter? waiter = null;
        lock (_poolLock)
        {
            // Checked under the pool lock, so that shutdown, which clears _accepting under the same lock, never sees
            // the outstanding count reach zero while a body is being admitted.
            if (!_accepting)
            {
                return null;
            }

            placement = PlaceLocked(item, posted, out worker);
            if (placement == Placement.None)
            {
                if (Options.Admission == AdmissionMode.Reject)
                {
                    Stats.CountAdmissionRejection();
                    throw new UmcgAdmissionRejectedException(Options.MaxWorkers!.Value, Options.MaxQueuedBodies);
                }

                waiter = new AdmissionWaiter(item);
                _waiters.AddLast(waiter.Node);
                Stats.CountAdmissionWait();
                worker = TakeIdleToEvictLocked();
            }
        }

        switch (placement)
        {
            case Placement.Idle:
                HandOver(worker!, item, reused: true);
                worker!.Release(exit: false);
                break;
            case Placement.NewThread:
                StartNewWorkerThread(item);
                break;
            default:
                worker?.Release(exit: true);
                WatchCancellation(item);
                break;
        }

        return waiter is null ? new ValueTask<WorkerHandle>(item.Handle) : new ValueTask<WorkerHandle>(waiter.Admitted);
    }

    /// <summary>Where <paramref name="item"/> goes now (see the rules at the top of this file); counts it admitted unless None.</summary>
    private Placement PlaceLocked(WorkItem item, bool posted, out WorkerThread? worker)
    {
        worker = null;

        // An idle thread of the body's stack size exists only while no body of that size waits (a finished thread
        // takes a waiting body before it pools itself), so using it overtakes nobody.
        if (_idle.TryGetValue(item.Options.StackSize, out var pool) && pool.Count > 0)
        {
            worker = pool.Pop();
            _idleCount--;
            AdmitLocked(item);
            return Placement.Idle;
        }

        bool othersWait = _queued.Count > 0 || _waiters.Count > 0;
        if (!othersWait && (Options.MaxWorkers is not int max || _workerThreads < max))
        {
            TakeSlotLocked();
            AdmitLocked(item);
            return Placement.NewThread;
        }

        if (posted || (_waiters.Count == 0 && (Options.MaxQueuedBodies is not int maxQueued || _queued.Count < maxQueued)))
        {
            AdmitLocked(item);
            EnqueueLocked(item);
            worker = TakeIdleToEvictLocked();
            return Placement.Queued;
        }

        return Placement.None;
    }

    /// <summary>The body is accepted: it will run or be canceled, and shutdown waits for it.</summary>
    private void AdmitLocked(WorkItem item)
    {
        item.Waiter = null;
        Interlocked.Increment(ref _outstanding);

        // Counted before the body can run, so that a body's completion never precedes its spawn.
        Stats.CountSpawn();
    }

    private void EnqueueLocked(WorkItem item)
    {
        item.QueueNode ??= new LinkedListNode<WorkItem>(item);
        _queued.AddLast(item.QueueNode);
        Stats.CountQueued();
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
                _idleCount--;
                return pool.Pop();
            }
        }

        return null;
    }

    /// <summary>The oldest body waiting for a thread: the queue's head, else the oldest waiting caller's body.</summary>
    private WorkItem? PeekWaitingLocked() => _queued.First?.Value ?? _waiters.First?.Value.Item;

    /// <summary>
    /// Takes the oldest waiting body for a thread that has a slot (see <see cref="PeekWaitingLocked"/>). A queue
    /// place it frees goes to the oldest waiting caller, whose body is admitted into the queue.
    /// </summary>
    /// <param name="admitted">The caller whose body was admitted by this step (into the queue, or taken itself), to complete after the lock.</param>
    private WorkItem? TakeWaitingLocked(out AdmissionWaiter? admitted)
    {
        admitted = null;
        WorkItem item;
        if (_queued.First is { } node)
        {
            _queued.RemoveFirst();
            item = node.Value;
            admitted = AdmitWaiterIntoQueueLocked();
        }
        else if (_waiters.First is { } waiterNode)
        {
            _waiters.RemoveFirst();
            admitted = waiterNode.Value;
            item = admitted.Item;
            AdmitLocked(item);
        }
        else
        {
            return null;
        }

        // No longer waiting: its token's callback has nothing left to cancel (it finds the body in no list).
        item.Registration.Unregister();
        item.Registration = default;
        return item;
    }

    /// <summary>A queue place is free: the oldest waiting caller's body takes it (it keeps its token's callback, since it still waits).</summary>
    private AdmissionWaiter? AdmitWaiterIntoQueueLocked()
    {
        if (_waiters.First is not { } node || (Options.MaxQueuedBodies is int maxQueued && _queued.Count >= maxQueued))
        {
            return null;
        }

        _waiters.RemoveFirst();
        var waiter = node.Value;
        AdmitLocked(waiter.Item);
        EnqueueLocked(waiter.Item);
        return waiter;
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
                    pool = new Stack<WorkerThread>();
                    _idle[worker.StackSize] = pool;
                }

                pool.Push(worker);
                _idleCount++;
                outcome = AfterBody.Idle;
            }
        }

        admitted?.Complete();
        if (next is not null)
        {
            // The worker is BLOCKED, so it may move to the body's server (the kernel half reads server_tid when it
            // leaves its blocking region).
            HandOver(worker, next, reused: true);
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
        OnItemDone(counted: false);
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
            HandOver(worker, item, reused: false);
            worker.Start();
            return null;
        }
        catch (Exception e) when (e is OutOfMemoryException or ThreadStartException)
        {
            if (worker is not null)
            {
                worker.Item = null;
                ReturnBlock(worker.Block);
            }

            return new UmcgThreadLimitException(e);
        }
    }

    /// <summary>Gives <paramref name="item"/> to a worker thread that is not running (new, idle, or just finished) on the body's server.</summary>
    private void HandOver(WorkerThread worker, WorkItem item, bool reused)
    {
        var server = reused ? ServerFor(item) : worker.Server;
        SchedulerTelemetry.Spawned(item.Options.Name, server, reused);
        if (reused)
        {
            worker.MoveTo(server);
            Stats.CountReuse();
        }

        worker.Assign(item);
    }

    /// <summary>The body's server: the one it names, else <see cref="PlaceNew"/>.</summary>
    private Server ServerFor(WorkItem item) =>
        (item.Options.ServerAffinity ?? item.Options.PreferredServer) is int index ? Servers[index] : PlaceNew();

    /// <summary>
    /// Lets the token cancel a body that waits (queued, or held by a waiting caller). The registration is stored
    /// under the pool lock only if the body still waits then; otherwise it has left already (taken, or canceled by
    /// a callback that ran inside the registration) and the registration is dropped here.
    /// </summary>
    private void WatchCancellation(WorkItem item)
    {
        if (!item.Token.CanBeCanceled)
        {
            return;
        }

        var registration = item.Token.UnsafeRegister(
            static state =>
            {
                var (scheduler, waiting) = ((UmcgScheduler, WorkItem))state!;
                scheduler.CancelWaiting(waiting);
            },
            (this, item));
        lock (_poolLock)
        {
            if (item.IsWaiting)
            {
                item.Registration = registration;
                return;
            }
        }

        registration.Unregister();
    }

    /// <summary>
    /// The token of a waiting body was canceled: if it still waits, it leaves its list and its handle completes as
    /// canceled; it never runs. A queued body was admitted, so it counts as done; a waiting caller's was not.
    /// </summary>
    private void CancelWaiting(WorkItem item)
    {
        AdmissionWaiter? waiter = null;
        AdmissionWaiter? admitted = null;
        bool wasQueued = false;
        lock (_poolLock)
        {
            if (item.Waiter is { Node.List: not null } w)
            {
                _waiters.Remove(w.Node);
                waiter = w;
            }
            else if (item.QueueNode is { List: not null } node)
            {
                _queued.Remove(node);
                wasQueued = true;
                admitted = AdmitWaiterIntoQueueLocked();
            }

            item.Registration = default;
        }

        admitted?.Complete();
        if (waiter is not null)
        {
            CancelUnadmitted(item);
            waiter.Complete();
        }
        else if (wasQueued)
        {
            item.CancelUnstarted();
            Stats.CountCanceledBeforeStart();
            SchedulerTelemetry.Completed(item.Handle);
            OnItemDone();
        }
    }

    /// <summary>A body canceled before it was admitted: its handle completes as canceled, and nothing else of it exists.</summary>
    private void CancelUnadmitted(WorkItem item)
    {
        item.CancelUnstarted();
        Stats.CountCanceledBeforeStart();
    }

    /// <summary>At shutdown (under the pool lock): the waiting callers, whose bodies will never be admitted.</summary>
    private List<AdmissionWaiter> TakeAllWaitersLocked()
    {
        var waiters = new List<AdmissionWaiter>(_waiters);
        _waiters.Clear();
        foreach (var waiter in waiters)
        {
            waiter.Item.Registration.Unregister();
            waiter.Item.Registration = default;
        }

        return waiters;
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
}
