using System.Diagnostics;
using Umcg.Scheduling;

namespace Umcg.Threading;

// MutexHandOff.Barging, after Go's sync.Mutex. Normal mode: an unlock releases the lock and wakes the oldest
// waiter, which competes for it with newcomers; a woken waiter that loses queues again at the front.
// Starvation mode: once a waiter has waited longer than the threshold, unlocks hand the lock to the oldest
// waiter (as MutexHandOff.Fifo does) and newcomers queue, until the queue drains.
public sealed partial class UmcgMutex
{
    // The bits Barging adds to Locked and Waiters, and who may change each:
    //
    // Locked    someone holds the lock. Set by a CAS that sees neither Locked nor Starving (a newcomer barging,
    //           a spinner, a woken waiter); cleared only by the owner's release CAS. A starvation-mode hand-off
    //           leaves it set and changes only _owner, so no newcomer can slip in.
    // Waiters   the queue is not empty. Set and cleared only under _gate: invariant under _gate, Waiters ⇔
    //           _waiters is not empty. Set only by a CAS that sees Locked, so an owner's release either comes
    //           first (the would-be waiter then sees the lock free and takes it) or sees Waiters and takes the
    //           slow path, which wakes someone.
    // Woken     a waiter was woken to compete and has not retried yet: unlocks wake nobody else meanwhile (one
    //           waiter in flight, not a herd). Set under _gate by the unlock that dequeues and wakes that waiter;
    //           cleared by that waiter alone (in the CAS that takes the lock, queues it again or gives up), or
    //           for it when its worker breaks (ReturnGrantBarging). So at most one waiter holds the role.
    // Starving  starvation mode: unlocks hand over, newcomers queue. Set under _gate by a woken waiter that lost
    //           after waiting longer than the threshold, in the CAS that queues it again (which sees Locked);
    //           cleared under _gate when the queue drains or the waiter handed the lock waited less than that.
    //
    // Invariants: Starving ⇒ Locked (set only with a seen Locked, and an owner in starvation mode hands over
    // instead of clearing Locked). Starving ⇒ ¬Woken (only the woken waiter sets Starving, giving up Woken in
    // the same CAS, and starvation mode wakes nobody to compete). Liveness: whenever the lock is free while
    // waiters are queued, a woken waiter is on its way (Woken) or the unlock that freed it is about to wake one.
    // That unlock released with Waiters set and Woken clear, so it wakes the head under _gate, unless somebody
    // took the lock meanwhile; then that owner's release sees Waiters and wakes instead.
    //
    // Ordering: every change of _state is an Interlocked operation (a full fence). The acquiring CAS orders the
    // previous owner's writes (before its release CAS, or before the hand-off under _gate) before the new
    // owner's critical section. The outcome of a wake is published by Waiter.Answer's release store after
    // MutexWaiter.HandedOff and _owner are written, so a woken waiter that reads its outcome sees both.
    private const int Woken = 4;
    private const int Starving = 8;

    // How long a waiter may wait before the mutex switches to starvation mode, in Stopwatch ticks (Go: 1 ms).
    private long _starvationTicks = Stopwatch.Frequency / 1000;

    // Barging only: the owner's worker, or null for a thread; a hint for spinners (does the owner run on another
    // server?). Written beside _owner (Unlock clears it in both modes); read without synchronisation, so it may
    // be stale, which costs at most a bounded spin.
    private WorkerThread? _ownerWorker;

    /// <summary>How long a waiter may wait before the mutex falls back to FIFO hand-off (Barging mode only); tests change it.</summary>
    internal TimeSpan StarvationThreshold
    {
        get => Stopwatch.GetElapsedTime(0, Volatile.Read(ref _starvationTicks));
        set => Volatile.Write(ref _starvationTicks, (long)Math.Min(value.TotalSeconds * Stopwatch.Frequency, long.MaxValue / 2));
    }

    /// <summary>Whether the mutex is in starvation mode now (a racy snapshot).</summary>
    internal bool IsStarvingForTests => (Volatile.Read(ref _state) & Starving) != 0;

    private static bool HasPassed(long deadlineNs) => deadlineNs != Deadline.None && Deadline.Now() >= deadlineNs;

    /// <summary>
    /// Takes the lock if it is free and the mutex is not starving, even while others wait (barging). The CAS is
    /// a full fence: the previous owner's writes are visible to the new owner. A woken waiter gives up its Woken
    /// role in the same CAS.
    /// </summary>
    private bool TryBarge(bool woken)
    {
        int s = Volatile.Read(ref _state);
        while ((s & (Locked | Starving)) == 0)
        {
            Debug.Assert(!woken || (s & Woken) != 0, "only the woken waiter clears Woken");
            int seen = Interlocked.CompareExchange(ref _state, (s | Locked) & ~(woken ? Woken : 0), s);
            if (seen == s)
            {
                _owner = Environment.CurrentManagedThreadId;
                _ownerWorker = WorkerThread.Current;
                return true;
            }

            s = seen;
        }

        return false;
    }

    /// <summary>
    /// Under <see cref="_gate"/>: sets and clears bits as long as the lock is held. False once it is seen free:
    /// the caller then tries to take it instead. (Starving ⇒ Locked, so "not free" is "Locked".)
    /// </summary>
    private bool TryUpdateWhileLocked(int set, int clear)
    {
        int s = Volatile.Read(ref _state);
        while ((s & Locked) != 0)
        {
            int seen = Interlocked.CompareExchange(ref _state, (s | set) & ~clear, s);
            if (seen == s)
            {
                return true;
            }

            s = seen;
        }

        return false;
    }

    private bool LockBarging(long deadlineNs, CancellationToken cancellationToken)
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
            lock (_gate)
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
                    int set = giveUp ? 0 : Waiters | (starve ? Starving : 0);
                    if (TryUpdateWhileLocked(set, woken ? Woken : 0))
                    {
                        break;
                    }
                }

                if (!giveUp)
                {
                    // Arm before enqueuing: an unlock may wake us the moment we release _gate.
                    waiter.Arm(deadlineNs);
                    if (woken)
                    {
                        _waiters.EnqueueReturning(waiter);
                    }
                    else
                    {
                        waiter.QueuedSince = Stopwatch.GetTimestamp();
                        _waiters.Enqueue(waiter);
                    }
                }
            }

            if (giveUp)
            {
                cancellationToken.ThrowIfCancellationRequested();
                return false;
            }

            // On a worker this parks and switches straight to the next runnable worker of the server.
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
    private void UnlockBarging()
    {
        while (true)
        {
            int s = Volatile.Read(ref _state);
            Debug.Assert((s & Locked) != 0, "the owner releases a held lock");
            if ((s & Starving) != 0)
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
            if (Interlocked.CompareExchange(ref _state, s & ~Locked, s) == s)
            {
                if ((s & (Waiters | Woken)) == Waiters)
                {
                    WakeOne();
                }

                return;
            }
        }
    }

    /// <summary>
    /// Wakes the oldest waiter to compete for the lock, unless (checked again under <see cref="_gate"/>) somebody
    /// took the lock meanwhile, a waiter is already woken, or nobody waits any more.
    /// </summary>
    private void WakeOne()
    {
        WakeTicket ticket;
        lock (_gate)
        {
            int s = Volatile.Read(ref _state);
            while (true)
            {
                // Locked: its owner's release sees Waiters and wakes. Woken: that waiter will retry. (Starving ⇒
                // Locked.) The CAS fails if a barger takes the lock in between; then the same holds.
                if ((s & (Locked | Waiters | Woken)) != Waiters)
                {
                    return;
                }

                int next = (s | Woken) & ~(_waiters.Count == 1 ? Waiters : 0);
                int seen = Interlocked.CompareExchange(ref _state, next, s);
                if (seen == s)
                {
                    break;
                }

                s = seen;
            }

            var head = (MutexWaiter)_waiters.Dequeue()!;
            head.HandedOff = false;
            ticket = head.Answer(Waiter.Granted);
        }

        WakeNext(ticket);
    }

    /// <summary>Starvation mode's unlock: the oldest waiter becomes the owner. False if the mode ended before <see cref="_gate"/> was taken.</summary>
    private bool TryHandOff()
    {
        WakeTicket ticket;
        lock (_gate)
        {
            int s = Volatile.Read(ref _state);
            if ((s & Starving) == 0)
            {
                return false;
            }

            Debug.Assert((s & (Locked | Waiters | Woken)) == (Locked | Waiters), "starvation mode: held, waiters queued, none woken");
            var head = (MutexWaiter)_waiters.Dequeue()!;

            // Leave starvation mode with the queue, or when even the oldest waiter has not waited long (Go does
            // the same): the rest have waited less still.
            int clear = _waiters.IsEmpty ? Waiters | Starving : 0;
            if (Stopwatch.GetTimestamp() - head.QueuedSince <= Volatile.Read(ref _starvationTicks))
            {
                clear |= Starving;
            }

            // Locked stays set, so no CAS outside _gate can succeed meanwhile (they all need it clear, or are the
            // owner's); the bits cleared here change only under _gate.
            Interlocked.And(ref _state, ~clear);
            _owner = head.ThreadId;
            _ownerWorker = head.Worker;
            head.HandedOff = true;
            ticket = head.Answer(Waiter.Granted);
        }

        WakeNext(ticket);
        return true;
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

    private bool TryRemoveBarging(Waiter waiter)
    {
        if (!_waiters.Remove(waiter))
        {
            return false;
        }

        if (_waiters.IsEmpty)
        {
            // Waiters ⇔ queued; starvation mode ends with its queue. A CAS outside _gate that computed its new
            // value before this fails and reads again.
            Interlocked.And(ref _state, ~(Waiters | Starving));
        }

        return true;
    }

    /// <summary>A waiter whose worker broke after it was answered gives back what the answer gave it: the lock, or the Woken role.</summary>
    private void ReturnGrantBarging(MutexWaiter waiter)
    {
        if (waiter.HandedOff)
        {
            Unlock();
            return;
        }

        // If the lock is free and others wait, nobody else will wake them: pass the wake on.
        int s = Interlocked.And(ref _state, ~Woken);
        if ((s & (Locked | Waiters)) == Waiters)
        {
            WakeOne();
        }
    }
}
