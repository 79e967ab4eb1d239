using System.Diagnostics;
using Umcg.Kernel;
using Umcg.Scheduling;

namespace Umcg.Threading;

/// <summary>
/// <see cref="MutexHandOff.Barging"/>, after Go's <c>sync.Mutex</c>. Normal mode: an unlock releases the lock and
/// wakes the oldest waiter, which competes for it with newcomers; a woken waiter that loses queues again at the
/// front. Starvation mode: once a waiter has waited longer than the threshold, unlocks hand the lock to the
/// oldest waiter (as <see cref="FifoMutexCore"/> does) and newcomers queue, until the queue drains.
/// </summary>
/// <remarks>
/// <para>The bits of <see cref="MutexState"/>, and who may change each:</para>
/// <list type="bullet">
/// <item>Locked: someone holds the lock. Set by a CAS that sees neither Locked nor Starving (a newcomer barging, a
/// spinner, a woken waiter); cleared only by the owner's release CAS. A starvation-mode hand-off leaves it set
/// and changes only the owner, so no newcomer can slip in.</item>
/// <item>Waiters: the queue is not empty. Set and cleared only under the gate: invariant under the gate, Waiters ⇔
/// the queue is not empty. Set only by a CAS that sees Locked, so an owner's release either comes first (the
/// would-be waiter then sees the lock free and takes it) or sees Waiters and takes the slow path, which wakes
/// someone.</item>
/// <item>Woken: a waiter was woken to compete and has not retried yet: unlocks wake nobody else meanwhile (one
/// waiter in flight, not a herd). Set under the gate by the unlock that dequeues and wakes that waiter; cleared
/// by that waiter alone (in the CAS that takes the lock, queues it again or gives up), or for it when its worker
/// breaks (<see cref="ReturnGrant"/>). So at most one waiter holds the role.</item>
/// <item>Starving: starvation mode. Set under the gate by a woken waiter that lost after waiting longer than the
/// threshold, in the CAS that queues it again (which sees Locked); cleared under the gate when the queue drains or
/// the waiter handed the lock waited less than that.</item>
/// </list>
/// <para>Invariants (checked by <see cref="MutexState.With"/>): Starving ⇒ Locked, Starving ⇒ ¬Woken. Liveness:
/// whenever the lock is free while waiters are queued, a woken waiter is on its way (Woken) or the unlock that
/// freed it is about to wake one. That unlock released with Waiters set and Woken clear, so it wakes the head
/// under the gate, unless somebody took the lock meanwhile; then that owner's release sees Waiters and wakes
/// instead.</para>
/// <para>Ordering: as for every core (see <see cref="MutexCore"/>); in addition the outcome of a wake is
/// published by <see cref="Waiter.Answer"/>'s release store after <see cref="MutexWaiter.HandedOff"/> and the
/// owner are written, so a woken waiter that reads its outcome sees both.</para>
/// </remarks>
internal sealed partial class BargingMutexCore : MutexCore
{
    // How long a waiter may wait before the mutex switches to starvation mode, in Stopwatch ticks (Go: 1 ms).
    private long _starvationTicks = Stopwatch.Frequency / 1000;

    /// <inheritdoc />
    public override MutexHandOff HandOff => MutexHandOff.Barging;

    /// <summary>How long a waiter may wait before the mutex falls back to FIFO hand-off; tests change it.</summary>
    public TimeSpan StarvationThreshold
    {
        get => Stopwatch.GetElapsedTime(0, Volatile.Read(ref _starvationTicks));
        set => Volatile.Write(ref _starvationTicks, (long)Math.Min(value.TotalSeconds * Stopwatch.Frequency, long.MaxValue / 2));
    }

    private static bool HasPassed(long deadlineNs) => deadlineNs != Deadline.None && Deadline.Now() >= deadlineNs;

    /// <summary>
    /// Takes the lock if it is free and the mutex is not starving, even while others wait (barging). The CAS is
    /// a full fence: the previous owner's writes are visible to the new owner. A woken waiter gives up its Woken
    /// role in the same CAS.
    /// </summary>
    private bool TryBarge(bool woken)
    {
        var s = State;
        while (!s.IsLocked && !s.IsStarving)
        {
            ProtocolBug.Check(!woken || s.IsWoken, "only the woken waiter clears Woken, so it finds Woken set");
            int seen = Interlocked.CompareExchange(ref StateBits, s.With(MutexState.Locked, woken ? MutexState.Woken : 0).Bits, s.Bits);
            if (seen == s.Bits)
            {
                Owner = Environment.CurrentManagedThreadId;
                OwnerWorker = WorkerThread.Current;
                return true;
            }

            s = new(seen);
        }

        return false;
    }

    /// <summary>
    /// Under the gate: sets and clears bits as long as the lock is held. False once it is seen free:
    /// the caller then tries to take it instead. (Starving ⇒ Locked, so "not free" is "Locked".)
    /// </summary>
    private bool TryUpdateWhileLocked(int set, int clear)
    {
        var s = State;
        while (s.IsLocked)
        {
            int seen = Interlocked.CompareExchange(ref StateBits, s.With(set, clear).Bits, s.Bits);
            if (seen == s.Bits)
            {
                return true;
            }

            s = new(seen);
        }

        return false;
    }

    /// <summary>Takes the lock if it is free and the mutex is not starving, even while others wait (barging).</summary>
    public override bool TryLock() => TryBarge(woken: false);

    /// <inheritdoc />
    public override void Unlock()
    {
        ThrowIfNotOwner();
        OwnerWorker = null;
        if (!TryReleaseUncontended())
        {
            UnlockContended();
        }
    }

    /// <inheritdoc />
    public override bool Lock(long deadlineNs, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (TryBarge(woken: false))
        {
            return true;
        }

        ThrowIfRecursive();
        var self = WorkerThread.Current;
        if (self is { BlockingDepth: 0 })
        {
            // A safepoint: under a policy with time slices, a worker that keeps winning the lock by barging or
            // spinning (and so never parks) gives way here once its slice is over, and a waiter woken onto the
            // same server gets to run and claim its turn.
            Worker.Safepoint();
        }

        var waiter = Waiter.ForCurrentThread<MutexWaiter>();
        bool woken = false;
        while (true)
        {
            if (SpinWhileOwnerRuns(self, woken))
            {
                return true;
            }

            bool giveUp;
            lock (Gate)
            {
                while (true)
                {
                    if (TryBarge(woken))
                    {
                        return true;
                    }

                    // A woken waiter whose wait ran out gives up rather than queue again. It gives up its Woken
                    // role while the lock is held, so that owner's release wakes the next waiter.
                    giveUp = woken && (HasPassed(deadlineNs) || cancellationToken.IsCancellationRequested);
                    bool starve = woken && !giveUp && Stopwatch.GetTimestamp() - waiter.QueuedSince > Volatile.Read(ref _starvationTicks);
                    int set = giveUp ? 0 : MutexState.Waiters | (starve ? MutexState.Starving : 0);
                    if (TryUpdateWhileLocked(set, woken ? MutexState.Woken : 0))
                    {
                        break;
                    }
                }

                if (!giveUp)
                {
                    // Arm before enqueuing: an unlock may wake us the moment we release the gate.
                    waiter.Arm(deadlineNs);
                    if (woken)
                    {
                        Queue.EnqueueReturning(waiter);
                    }
                    else
                    {
                        waiter.QueuedSince = Stopwatch.GetTimestamp();
                        Queue.Enqueue(waiter);
                    }
                }
            }

            if (giveUp)
            {
                cancellationToken.ThrowIfCancellationRequested();
                return false;
            }

            // On a worker this parks and switches straight to the next runnable worker of the server.
            OwnerIsAwaited();
            int outcome = WaitSite.Await(this, waiter, cancellationToken);
            if (outcome == Waiter.Waiting)
            {
                return false;
            }

            if (waiter.HandedOff)
            {
                return true;
            }

            woken = true;
        }
    }

    /// <summary>The owner's slow release: a hand-over in starvation mode, else a release that may wake a waiter.</summary>
    private void UnlockContended()
    {
        AwaitedLockReleased();
        while (true)
        {
            var s = State;
            ProtocolBug.Check(s.IsLocked, "the owner releases a held lock");
            if (s.IsStarving)
            {
                if (TryHandOff())
                {
                    return;
                }

                // Starvation mode ended meanwhile (its last waiters gave up): release normally.
                continue;
            }

            // A full fence, like the fast path's release. It fails if a waiter queued, a woken waiter gave up its
            // role or starvation mode began: decide again on the new state.
            if (Interlocked.CompareExchange(ref StateBits, s.With(0, MutexState.Locked).Bits, s.Bits) == s.Bits)
            {
                if (s.HasWaiters && !s.IsWoken)
                {
                    WakeOne();
                }

                return;
            }
        }
    }

    /// <summary>
    /// Wakes the oldest waiter to compete for the lock, unless (checked again under the gate) somebody took the
    /// lock meanwhile, a waiter is already woken, or nobody waits any more.
    /// </summary>
    private void WakeOne()
    {
        WakeTicket ticket;
        lock (Gate)
        {
            var s = State;
            while (true)
            {
                // Locked: its owner's release sees Waiters and wakes. Woken: that waiter will retry. (Starving ⇒
                // Locked.) The CAS fails if a barger takes the lock in between; then the same holds.
                if (s.IsLocked || s.IsWoken || !s.HasWaiters)
                {
                    return;
                }

                var next = s.With(MutexState.Woken, Queue.Count == 1 ? MutexState.Waiters : 0);
                int seen = Interlocked.CompareExchange(ref StateBits, next.Bits, s.Bits);
                if (seen == s.Bits)
                {
                    break;
                }

                s = new(seen);
            }

            var head = DequeueHead();
            head.HandedOff = false;
            ticket = head.Answer(Waiter.Granted);
        }

        WakeNext(ticket);
    }

    /// <summary>Starvation mode's unlock: the oldest waiter becomes the owner. False if the mode ended before the gate was taken.</summary>
    private bool TryHandOff()
    {
        WakeTicket ticket;
        lock (Gate)
        {
            var s = State;
            if (!s.IsStarving)
            {
                return false;
            }

            ProtocolBug.Check(s.HasWaiters && !s.IsWoken, "starvation mode: held, waiters queued, none woken");
            var head = DequeueHead();

            // Leave starvation mode with the queue, or when even the oldest waiter has not waited long (Go does
            // the same): the rest have waited less still.
            int clear = Queue.IsEmpty ? MutexState.Waiters | MutexState.Starving : 0;
            if (Stopwatch.GetTimestamp() - head.QueuedSince <= Volatile.Read(ref _starvationTicks))
            {
                clear |= MutexState.Starving;
            }

            // Locked stays set, so no CAS outside the gate can succeed meanwhile (they all need it clear, or are
            // the owner's); the bits cleared here change only under the gate.
            Interlocked.And(ref StateBits, ~clear);
            Owner = head.ThreadId;
            OwnerWorker = head.Worker;
            head.HandedOff = true;
            ticket = head.Answer(Waiter.Granted);
        }

        WakeNext(ticket);
        return true;
    }

    /// <summary>Under the gate, with Waiters set: the head of the queue (Waiters ⇔ the queue is not empty).</summary>
    private MutexWaiter DequeueHead()
    {
        var head = Queue.Dequeue();
        ProtocolBug.Check(head is MutexWaiter, "a Barging mutex with Waiters set has a queued MutexWaiter");
        return (MutexWaiter)head;
    }

    /// <summary>
    /// Wakes a waiter and, if it is a worker of the caller's own server, asks that it run next when the caller
    /// leaves its CPU (Go's runnext): ahead of the rest of the run queue, which could take long enough to drain
    /// that the woken waiter would lose its turn or, handed the lock, keep everyone waiting. The caller keeps its
    /// CPU either way (it may be in the middle of UmcgCondition.Wait, already armed for a park, so it must not
    /// yield here).
    /// </summary>
    private static void WakeNext(WakeTicket ticket)
    {
        ticket.Wake();
        if (ticket.Worker is { } target
            && WorkerThread.Current is { BlockingDepth: 0 } self
            && ReferenceEquals(target.Server, self.Server))
        {
            Waiter.RunNextOnMyServer(target);
        }
    }

    /// <inheritdoc />
    public override bool TryRemove(Waiter waiter)
    {
        if (!Queue.Remove(waiter))
        {
            return false;
        }

        if (Queue.IsEmpty)
        {
            // Waiters ⇔ queued; starvation mode ends with its queue. A CAS outside the gate that computed its new
            // value before this fails and reads again.
            Interlocked.And(ref StateBits, ~(MutexState.Waiters | MutexState.Starving));
        }

        return true;
    }

    /// <summary>A waiter whose worker broke after it was answered gives back what the answer gave it: the lock, or the Woken role.</summary>
    public override void ReturnGrant(Waiter waiter)
    {
        if (((MutexWaiter)waiter).HandedOff)
        {
            Unlock();
            return;
        }

        // If the lock is free and others wait, nobody else will wake them: pass the wake on.
        var s = new MutexState(Interlocked.And(ref StateBits, ~MutexState.Woken));
        if (!s.IsLocked && s.HasWaiters)
        {
            WakeOne();
        }
    }
}
