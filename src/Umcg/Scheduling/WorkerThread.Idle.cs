using Umcg.Abi;

namespace Umcg.Scheduling;

// A pooled worker thread between bodies: BLOCKED in a region of its own (the end of its last body), off every
// server's CPU, until a releaser hands it a body (or the order to exit). Two ways to end that wait:
//
//   asleep (K11, UmcgSchedulerOptions.QueueIdleThreadsAsleep): the thread offered itself to the kernel half and sleeps
//       there; the releaser queues it on its server as its own unblock would (UnblockIdle), and the thread is woken
//       once, by whoever runs it. A spawn then costs no wake-up of the pooled thread: one wake and two switches fewer
//       than the other way;
//   awake: the releaser sets _assigned; the thread wakes, ends its region itself (SysExit: queued, a server woken if
//       the arrival needs one) and sleeps again until run.
//
// The handshake word says which, since the thread offers itself only after the pool lock is released and its last
// body's handle completed, and a releaser may take it out of the pool before that:
//
//   Busy ──(pool lock: NextFor)──► Pooled ──thread: CAS──► Asleep ──releaser: UnblockIdle──► (run) Busy
//                                     └──releaser: CAS──► Claimed ──releaser: _assigned.Set; thread: SysExit──► Busy
//
// Each idle period has exactly one releaser (the one that took the thread out of the pool, under the lock) and one
// CAS between it and the thread decides the way: the thread offers itself to the kernel half (K11o) before its CAS,
// so a releaser that reads Asleep always finds the offer standing.
public sealed unsafe partial class WorkerThread
{
    // The idle handshake (see the head of this file). Written Pooled under the pool lock, before the thread is pushed
    // on an idle stack; then one CAS from Pooled, by the thread (Asleep) or by its releaser (Claimed); reset to Busy by
    // the thread once it runs again, before it can be pooled again.
    private int _idleHandshake;

    // Set once per idle period by the releaser that claimed the thread while it was still awake (Claimed), reset by the
    // thread when it wakes. An event rather than a semaphore: an interrupt that lands as a semaphore's waiter is pulsed
    // leaves it believing a waiter is already woken, and later releases wake nobody; the event's state survives an
    // interrupted wait, and the next wait finds it set.
    private readonly ManualResetEventSlim _assigned = new(false, spinCount: 0);
    private volatile bool _exitRequested;

    /// <summary>The values of <see cref="_idleHandshake"/>.</summary>
    private static class IdleHandshake
    {
        public const int Busy = 0;      // running a body, or on its way to the pool
        public const int Pooled = 1;    // on an idle stack, still awake
        public const int Asleep = 2;    // offered to the kernel half (K11o): the releaser queues it
        public const int Claimed = 3;   // taken out of the pool while awake: the releaser sets _assigned
    }

    /// <summary>Whether the thread sleeps in the pool waiting for a releaser to queue it (K11), for tests.</summary>
    internal bool IsAsleepInPoolForTests => Volatile.Read(ref _idleHandshake) == IdleHandshake.Asleep;

    /// <summary>Under the pool lock, before the thread is pushed on an idle stack.</summary>
    internal void OnPooledLocked() => Volatile.Write(ref _idleHandshake, IdleHandshake.Pooled);

    /// <summary>
    /// Ends an idle period, once per period, by the caller that took the thread out of the pool: with a body (after
    /// <see cref="Assign"/>, and <see cref="MoveTo"/> if it changes servers), or to exit.
    /// </summary>
    internal void Release(bool exit)
    {
        _exitRequested = exit;

        // Full fence (CAS): the body, the server and the exit order above are visible to the thread before it can run.
        if (Interlocked.CompareExchange(ref _idleHandshake, IdleHandshake.Claimed, IdleHandshake.Pooled) == IdleHandshake.Pooled)
        {
            _assigned.Set();
            return;
        }

        // Asleep: queue it for its server ourselves, without waking it. Refused (no server to queue on, or its word
        // scribbled), the kernel half calls the offer off and wakes it, and its own wait removes it: the thread reports
        // that and fails the body it was given, so there is nothing more to do here. (A refusal for want of an offer
        // cannot come: the thread offers before its CAS to Asleep, and only its one releaser takes the offer.)
        if (Kernel.UnblockIdle(Block.Task) == Errno.Ok && !exit)
        {
            Scheduler.Stats.CountQueuedAsleep();
        }
    }

    /// <summary>
    /// Waits in the idle pool for the next body (or the order to exit), asleep in the kernel half when the releaser can
    /// queue it (K11), else awake for <see cref="_assigned"/>. Returns still BLOCKED (the caller's SysExit ends the
    /// region) or already RUNNING (the releaser ended it, and a server runs us).
    /// </summary>
    private void WaitInPool()
    {
        if (Scheduler.Options.QueueIdleThreadsAsleep
            && Kernel.OfferIdle() == Errno.Ok
            && Scheduler.AfterIdleOfferForTests?.Invoke(this) is null or true
            && Interlocked.CompareExchange(ref _idleHandshake, IdleHandshake.Asleep, IdleHandshake.Pooled) == IdleHandshake.Pooled)
        {
            var r = IdleWaitAbsorbingInterrupts();
            if (r == Errno.Ok)
            {
                Volatile.Write(ref _idleHandshake, IdleHandshake.Busy);
                AbsorbInterruptSentWhileIdle();
                return;
            }

            // Removed (a releaser could not queue us): the error fails the body we were given, and the thread leaves.
            UmcgProtocolException.ThrowIfFailed(r, "wait idle");
        }

        // Claimed while awake (before our CAS), or no offer made. A standing offer (the Idle mark) is ended by SysExit
        // like any region: no releaser will unblock us, the one that claimed us sets the event instead.
        WaitAwake();
        Volatile.Write(ref _idleHandshake, IdleHandshake.Busy);
        AbsorbInterruptSentWhileIdle();
    }

    /// <summary>
    /// An interrupt sent to the idle thread (by code that kept a reference to it) belongs to no body. Neither way of
    /// waiting delivers it for sure: the kernel half's futex wait is not one the runtime interrupts, and an event set
    /// before the thread waits on it returns without looking. Taken here, before the next body, whose first wait would
    /// otherwise throw it.
    /// </summary>
    private void AbsorbInterruptSentWhileIdle()
    {
        if (AbsorbPendingInterrupt())
        {
            Scheduler.Stats.CountAbsorbedInterrupt();
        }
    }

    /// <summary>
    /// The kernel half's idle wait, again after an interrupt: a parker the runtime can interrupt (the portable one, a
    /// monitor wait) would otherwise let one escape and strand the thread's pool entry. The wait can be called again:
    /// it starts from whatever the word says now.
    /// </summary>
    private Errno IdleWaitAbsorbingInterrupts()
    {
        while (true)
        {
            try
            {
                return Kernel.IdleWait();
            }
            catch (ThreadInterruptedException)
            {
                Scheduler.Stats.CountAbsorbedInterrupt();
            }
        }
    }

    /// <summary>
    /// Waits for <see cref="_assigned"/>. An interrupt that reaches an idle thread (from code that kept a reference
    /// to it) belongs to no body: it is absorbed, and the thread stays pooled. Leaving here by exception would strand
    /// the pool entry, and the next body handed to it would never run.
    /// </summary>
    private void WaitAwake()
    {
        while (true)
        {
            try
            {
                _assigned.Wait();
                _assigned.Reset();
                return;
            }
            catch (ThreadInterruptedException)
            {
                Scheduler.Stats.CountAbsorbedInterrupt();
            }
        }
    }
}
