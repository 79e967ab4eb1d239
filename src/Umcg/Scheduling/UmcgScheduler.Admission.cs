using Umcg.Collections;
using Umcg.Scheduling.Policies;

namespace Umcg.Scheduling;

// Admission control: how many bodies may be accepted and what happens to the rest. A body that finds no idle
// worker thread and no free slot (see UmcgScheduler.WorkerPool.cs) is queued, up to Options.MaxQueuedBodies; past
// that its caller waits for room or is refused (Options.Admission). A waiting body — queued, or held by a waiting
// caller — may be canceled by its token until a thread takes it.
//
// Waiting bodies are taken by priority (WorkerOptions.Priority, highest first), oldest first within a priority:
// a thread that frees up goes to the most urgent body, and a freed queue place to the most urgent waiting caller.
// With the bound reached, a health check spawned at a high priority would otherwise wait behind every request
// queued before it — however high its priority on the servers, it could not get there. A scheduler whose bodies
// all keep the default priority takes them oldest first, as a plain FIFO would.
//
// Every decision here happens under _poolLock and is carried out after the lock is released (a thread started,
// an idle thread released, a waiter completed), so no lock is held across a thread start, a kernel-half call or a
// continuation.
public sealed partial class UmcgScheduler
{
    // Bodies admitted but not yet on a thread (the worker bound was reached), by priority. Under _poolLock.
    private readonly RankedQueue<WorkItem> _queued = new(PriorityPolicy.Levels);

    // Callers waiting for room (Wait mode, both bounds reached), by their bodies' priority; their bodies are not
    // admitted yet (neither counted in _outstanding nor in Stats.Spawned). Under _poolLock.
    private readonly RankedQueue<AdmissionWaiter> _waiters = new(PriorityPolicy.Levels);

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
        Server? server;
        AdmissionWaiter? waiter = null;
        lock (_poolLock)
        {
            // Checked under the pool lock, so that shutdown, which clears _accepting under the same lock, never sees
            // the outstanding count reach zero while a body is being admitted.
            if (!_accepting)
            {
                return null;
            }

            placement = PlaceLocked(item, posted, out worker, out server);
            if (placement == Placement.None)
            {
                if (Options.Admission == AdmissionMode.Reject)
                {
                    Stats.CountAdmissionRejection();
                    throw new UmcgAdmissionRejectedException(Options.MaxWorkers!.Value, Options.MaxQueuedBodies);
                }

                waiter = new AdmissionWaiter(item);
                _waiters.AddLast(waiter.Node, item.Options.Priority);
                Stats.CountAdmissionWait();
                worker = TakeIdleToEvictLocked();
            }
        }

        switch (placement)
        {
            case Placement.Idle:
                AssignBody(worker!, item, reused: true, server);
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
    private Placement PlaceLocked(WorkItem item, bool posted, out WorkerThread? worker, out Server? server)
    {
        worker = null;
        server = null;

        // An idle thread of the body's stack size exists only while no body of that size waits (a finished thread
        // takes a waiting body before it pools itself), so using it overtakes nobody.
        if (_idle.TryGetValue(item.Options.StackSize, out var pool) && pool.Count > 0)
        {
            server = ServerFor(item);
            worker = TakeIdleLocked(pool, server);
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
            QueueBodyLocked(item);
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

    private void QueueBodyLocked(WorkItem item)
    {
        item.QueueNode ??= new LinkedListNode<WorkItem>(item);
        _queued.AddLast(item.QueueNode, item.Options.Priority);
        Stats.CountQueued();
    }

    /// <summary>The body a thread takes next: the queue's head, else the first waiting caller's body (see the top of this file).</summary>
    private WorkItem? PeekWaitingLocked() => _queued.First?.Value ?? _waiters.First?.Value.Item;

    /// <summary>
    /// Takes the next waiting body for a thread that has a slot (see <see cref="PeekWaitingLocked"/>). A queue
    /// place it frees goes to the first waiting caller, whose body is admitted into the queue.
    /// </summary>
    /// <param name="admitted">The caller whose body was admitted by this step (into the queue, or taken itself), to complete after the lock.</param>
    private WorkItem? TakeWaitingLocked(out AdmissionWaiter? admitted)
    {
        admitted = null;
        WorkItem item;
        if (_queued.TakeFirst() is { } node)
        {
            item = node.Value;
            admitted = AdmitWaiterIntoQueueLocked();
        }
        else if (_waiters.TakeFirst() is { } waiterNode)
        {
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

    /// <summary>A queue place is free: the first waiting caller's body takes it (it keeps its token's callback, since it still waits).</summary>
    private AdmissionWaiter? AdmitWaiterIntoQueueLocked()
    {
        if (_waiters.Count == 0 || (Options.MaxQueuedBodies is int maxQueued && _queued.Count >= maxQueued))
        {
            return null;
        }

        var waiter = _waiters.TakeFirst()!.Value;
        AdmitLocked(waiter.Item);
        QueueBodyLocked(waiter.Item);
        return waiter;
    }

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
            Stats.CountCompletion();
            item.CancelUnstarted();
            Telemetry.Completed(item.Handle, ran: false);
            OnItemDone();
        }
    }

    /// <summary>A body canceled before it was admitted: its handle completes as canceled, and nothing else of it exists.</summary>
    private void CancelUnadmitted(WorkItem item)
    {
        item.CancelUnstarted();
        Telemetry.Completed(item.Handle, ran: false);
    }

    /// <summary>At shutdown (under the pool lock): the waiting callers, whose bodies will never be admitted.</summary>
    private List<AdmissionWaiter> TakeAllWaitersLocked()
    {
        var waiters = _waiters.TakeAll();
        foreach (var waiter in waiters)
        {
            waiter.Item.Registration.Unregister();
            waiter.Item.Registration = default;
        }

        return waiters;
    }

}
