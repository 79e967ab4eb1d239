using Umcg.Kernel;
using Umcg.Scheduling.Policies;

namespace Umcg.Scheduling;

// The server's run queue: its policy behind its lock. Every change to the queue goes through the *Locked
// members here, which keep QueueLength equal to the policy's count and check each answer of the policy:
//
//   R1 an enqueue adds exactly one worker;
//   R2 a dequeue returns null only from an empty queue, and otherwise removes exactly one worker;
//   R3 a worker the queue gave up (dequeued, removed, stolen) is in no WorkerQueue any more: a worker is in at
//      most one run queue, or held parked, or running.
//
// A policy the library does not ship is wrapped in a ContainedPolicy, which answers with its own record, so
// R1 and R2 hold for every policy, and R3 for every policy the library ships: a failure is a bug of ours. Each
// check is one compare against QueueLength, which the previous change stored.
internal sealed unsafe partial class Server
{
    private readonly IRunQueuePolicy _policy;

    // Guards _policy. Taken by the server loop, by workers of this server switching directly to a queued
    // worker, and by other servers stealing or handing over work. Never held across a kernel-half call.
    private readonly Lock _queueLock = new();

    /// <summary>Queued runnable workers (written under the lock; approximate outside it).</summary>
    public int QueueLength { get; private set; }

    /// <summary>
    /// Removes a queued worker for a direct switch by the running worker. False if it is not queued here. What
    /// waits on our list is drained first (H1): a target that just gave way may be there.
    /// </summary>
    public bool TryTakeForSwitch(WorkerThread target)
    {
        TakeListForSwitch();
        bool taken;
        lock (_queueLock)
        {
            taken = RemoveLocked(target);
        }

        if (taken)
        {
            target.RestoreIfDemoted(); // D4: it runs for us next
        }

        return taken;
    }

    /// <summary>
    /// Another server takes a worker from this one (it must have more than it can run now). Our list is drained
    /// first: quiet arrivals wait there, not in the run queue.
    /// </summary>
    public WorkerThread? TryStealFor(Server thief)
    {
        if (_scheduler.Options.QuietArrivals)
        {
            TakeListForSwitch();
        }

        WorkerThread? w = null;
        lock (_queueLock)
        {
            if (QueueLength > 0 && (Slot.IsRunning || QueueLength >= 2))
            {
                w = StealLocked();
                w?.MoveTo(thief);
            }
        }

        WakeIfLeftWithWork();
        return w;
    }

    /// <summary>
    /// After a thief's drain of our list (S2's work, done off our thread): wakes us if workers wait in our run queue
    /// while no worker runs for us. Our running worker's stop picks from the queue, and a server asleep open left by
    /// such a stop (O5) is only woken for what that stop saw: a worker the thief took off our list before the stop's
    /// look (H1 finds the list empty) and queued after its look at the queue (AfterLeftOpen's) would wait there for
    /// ever, since the thief leaves one worker to a server that runs none.
    /// </summary>
    /// <remarks>
    /// Full fence between the thief's enqueue (under <see cref="_queueLock"/>) and its read of the slot, against the
    /// stopping worker's K12l CAS that comes before its read of <see cref="QueueLength"/>: either the thief reads the
    /// slot still running (then the stop's read sees the worker, and wakes us) or it reads it open or empty (then it
    /// wakes us here). A wake of a server that is awake costs one read of its state.
    /// </remarks>
    private void WakeIfLeftWithWork()
    {
        Interlocked.MemoryBarrier();
        if (QueueLength > 0 && !Slot.IsRunning)
        {
            Wake();
        }
    }

    /// <summary>
    /// Queues <paramref name="worker"/> while <paramref name="running"/> runs here; true if the policy now wants
    /// to slice or preempt <paramref name="running"/> (so a server asleep with no slice armed must look again).
    /// </summary>
    private bool EnqueueBeside(WorkerThread worker, WorkerThread running)
    {
        lock (_queueLock)
        {
            EnqueueLocked(worker);
            return _policy.ShouldPreempt(running) || _policy.TimeSlice(running) is not null;
        }
    }

    private void Enqueue(WorkerThread worker)
    {
        lock (_queueLock)
        {
            EnqueueLocked(worker);
        }
    }

    /// <summary>The loop's pick: the policy's next worker, else (balancing) one stolen from a busy server.</summary>
    private WorkerThread? PickNext()
    {
        WorkerThread? next;
        lock (_queueLock)
        {
            next = DequeueLocked();
        }

        if (next is null && _scheduler.Options.Balance)
        {
            // Q2: idle first, then quiet arrivals revoked everywhere, then the busy servers' lists looked at.
            _idle = true;
            if (_scheduler.Options.QuietArrivals)
            {
                RevokeQuietArrivals();
            }

            next = StealFromBusyServer();
            _idle = next is null;
        }

        return next;
    }

    /// <summary>One worker for an idle server (a hand-over), or null.</summary>
    private WorkerThread? GiveAway()
    {
        lock (_queueLock)
        {
            return StealLocked();
        }
    }

    /// <summary>
    /// Reports a fault of a contained policy, outside the run-queue lock (a handler of the scheduler's event may
    /// call back into the scheduler). Called once per loop turn and when the loop ends: a fault met by another
    /// thread (a worker's unpark, a thief) is reported on the server's next turn.
    /// </summary>
    private void ReportPolicyFault()
    {
        if (_policy is not ContainedPolicy contained)
        {
            return;
        }

        Exception? fault;
        lock (_queueLock)
        {
            fault = contained.TakeFault();
        }

        if (fault is not null)
        {
            _scheduler.ReportFault(fault, UmcgFaultSource.Policy, serverIndex: Index);
        }
    }

    private void EnqueueLocked(WorkerThread worker)
    {
        _policy.Charge(worker, Interlocked.Exchange(ref worker.UnchargedNs, 0));
        _policy.Enqueue(worker);
        Recount(1, "R1: an enqueue adds one worker to the run queue");
    }

    private WorkerThread? DequeueLocked()
    {
        var w = _policy.Dequeue();
        if (w is null)
        {
            ProtocolBug.Check(QueueLength == 0 && _policy.Count == 0, "R2: the run queue gives no worker only when it is empty");
            return null;
        }

        Recount(-1, "R2: a dequeue removes one worker from the run queue");
        GaveUp(w);
        return w;
    }

    private bool RemoveLocked(WorkerThread worker)
    {
        if (!_policy.Remove(worker))
        {
            return false;
        }

        Recount(-1, "R2: a removal takes one worker from the run queue");
        GaveUp(worker);
        return true;
    }

    private WorkerThread? StealLocked()
    {
        var w = _policy.Steal();
        if (w is not null)
        {
            Recount(-1, "R2: a steal takes one worker from the run queue");
            GaveUp(w);
        }

        return w;
    }

    /// <summary>Stores the policy's new count after a change of <paramref name="delta"/>, checking it moved by exactly that.</summary>
    private void Recount(int delta, string invariant)
    {
        int count = _policy.Count;
        ProtocolBug.Check(count == QueueLength + delta, invariant);
        QueueLength = count;
    }

    // A contained policy's own queues are user code: they may keep a stale link, which is its fault to report, not ours.
    private void GaveUp(WorkerThread worker) =>
        ProtocolBug.Check(_policy is ContainedPolicy || !WorkerQueue.IsQueued(worker), "R3: a worker the run queue gave up is in no run queue");
}
