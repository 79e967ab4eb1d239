using System.Collections.Concurrent;
using Umcg.Abi;
using Umcg.Kernel;

namespace Umcg.Scheduling;

// The direct successor: a worker that stops running — it blocks (a region), parks, yields or finishes its body —
// picks its server's next worker itself, under the policy's order, and hands the CPU straight to it through
// next_tid (K2's switch for a park or a yield, K3s's block for a region or a finished body): one switch where the
// server's way takes two (worker → server → worker), and the server sleeps on. The server is woken only for what
// needs it: a deadline to arm (a slice, a parked worker's timer), or something left on its list after the switch.
//
// Steps, on the stopping worker's thread while the server's record names it:
//   H1 drain: the server's runnable list into the run queue, as the server's S2 does (under the drain lock, so the
//      two never walk the list at once); a parked worker's deadline goes to the server through its timer inbox.
//   H2 pick, under the run-queue lock: the policy's next worker. A yield queues the yielder first, so that the
//      policy weighs it too: if it comes out first, nobody switches. The successor's slice starts now.
//   H3 decide whether the server must look anyway (a timer to arm; a successor the policy will want to slice while
//      no deadline is armed): then it is woken — before the switch for a yield or a park (the switcher sleeps
//      inside it), after it for a block.
//   H4 switch: next_tid = successor, then Wait (K2) or SysEnter (K3s). The kernel half moves the record and
//      wakes the successor; if it finds anything else on the list by then, it wakes the server (K4q's other side).
//
// Invariants kept: V1 (the record moves only from the running worker to the successor, by the kernel half's CAS);
// V2 (the successor left the run queue under the lock before the switch; the yielder is in no queue until its
// own push, K2, lands on the list); the policy's order (the pick is the policy's Dequeue, the server's own call).
internal sealed unsafe partial class Server
{
    // Serialises walks of our runnable list: the server's S2, a worker's H1, a thief's drain before a steal. The
    // exchange that takes the list is atomic anyway; the lock keeps RunnableList's walk (and its recovery after a
    // scribbled entry) to one walker, and _drained to one user.
    private readonly Lock _drainLock = new();

    // Parked workers with a deadline drained off the server's thread: only the server owns the timer heap.
    private readonly ConcurrentQueue<(WorkerThread Worker, long Seq, long Deadline)> _timerInbox = new();

    /// <summary>
    /// What <see cref="TakeSuccessor"/> found: the worker to switch to (or none), whether a yielder comes first and
    /// keeps its CPU, whether the server must look anyway (H3), and — for a worker that stops with no successor —
    /// whether it may leave the server asleep open instead of waking it (O5).
    /// </summary>
    internal readonly record struct Successor(WorkerThread? Next, bool KeepRunning, bool WakeServer, bool LeaveOpen = false);

    /// <summary>
    /// Steps H1–H3 for <paramref name="self"/>, this server's running worker, on its own thread: the worker to
    /// hand the CPU to, or null (nothing to run: a block goes through the server; a yield keeps running).
    /// </summary>
    /// <param name="self">The caller's worker; its record must name it (RUNNING, outside any blocking region).</param>
    /// <param name="yielding">The caller stays runnable (a yield): it competes with the queue for the CPU.</param>
    internal Successor TakeSuccessor(WorkerThread self, bool yielding)
    {
        // A worker in the background holds no CPU to hand on (the kernel half would refuse the switch anyway).
        if (!_scheduler.Options.DirectSuccessor || self.IsInBackground)
        {
            return default;
        }

        // A background holder of an awaited lock goes first (D4): only the server adopts, so the CPU goes back to it.
        if (Volatile.Read(ref _adoptFirst) is not null)
        {
            return new Successor(null, KeepRunning: false, WakeServer: true);
        }

        // H1. What became runnable since the server last looked is a candidate too.
        long now = KernelClock.Now(ClockId.Monotonic);
        bool needServer = DrainIfListed(now);

        // H2.
        WorkerThread? next;
        lock (_queueLock)
        {
            if (yielding)
            {
                EnqueueLocked(self);
                next = DequeueLocked();
                if (ReferenceEquals(next, self))
                {
                    return new Successor(null, KeepRunning: true, needServer);
                }

                // The yielder goes back onto the list with its own switch (K2), as every worker that gives way does.
                RemoveLocked(self);
            }
            else
            {
                next = DequeueLocked();
            }
        }

        // H2s. Nothing queued here, for a worker that stops: take a worker that a busy server cannot run now, as our
        // server would once woken (S4's steal), but without the two switches through it. Outside our lock: the steal
        // takes the victim's (never two run-queue locks at once). A yielder found nothing better: it keeps running.
        if (next is null && !yielding && _scheduler.Options.Balance)
        {
            next = StealFromBusyServer(forSuccessor: true);
        }

        if (next is null)
        {
            // O5: nothing to hand on and nothing the server must do: the block may leave it asleep open.
            return new Successor(null, KeepRunning: false, needServer, LeaveOpen: !yielding && !needServer && MayBeLeftOpen);
        }

        bool wantsSlice;
        lock (_queueLock)
        {
            // The successor's slice starts now: the server measures from this stamp, as if it had picked it.
            _sliceOwner = next.Tid;
            _sliceStartNs = now;
            wantsSlice = _policy.ShouldPreempt(next) || _policy.TimeSlice(next) is not null;
        }

        // D4: a successor demoted earlier runs at its own priority.
        next.RestoreIfDemoted();

        // H3. A server asleep with no deadline decided while the queue held nothing to slice for: it must look once
        // to measure the successor's slice (see _sliceArmed for why reading it after the lock is enough).
        return new Successor(next, KeepRunning: false, needServer || (wantsSlice && !_sliceArmed));
    }

    /// <summary>
    /// H1 off the server's thread (a worker about to switch, a thief about to steal): our list into the run queue
    /// if anything waits there; the server is woken if a parked worker's deadline went to its timer inbox.
    /// </summary>
    private void TakeListForSwitch()
    {
        if (DrainIfListed(KernelClock.Now(ClockId.Monotonic)))
        {
            Wake();
        }
    }

    /// <summary>
    /// H1 off the server's thread, only if anything is listed: an empty list (the common case on the hot path) costs
    /// one read, not the drain lock and a read section. True if a parked worker's deadline went to the timer inbox.
    /// An entry pushed after this read is the next drain's, as it would be after a drain that found it empty.
    /// </summary>
    private bool DrainIfListed(long now) =>
        Volatile.Read(ref Self->RunnableWorkersPtr) != 0 && DrainRunnableList(now, onServer: false);

    /// <summary>
    /// S2 on the server, H1 on a worker, or a thief's look before a steal: takes this server's runnable list into
    /// its run queue. True if a parked worker's deadline went to the timer inbox (only the server arms timers).
    /// </summary>
    private bool DrainRunnableList(long now, bool onServer)
    {
        lock (_drainLock)
        {
            _drained.Clear();
            var r = RunnableList.Drain(Kernel, Self, _drained);
            if (r != Errno.Ok)
            {
                _scheduler.ReportFault(new UmcgProtocolException("drain runnable list", r));
            }

            // A test hook: one load and branch on every drain, the hot path's included, when no test sets it.
            if (_scheduler.AfterListTakenOffServerForTests is { } afterTaken && !onServer && _drained.Count > 0)
            {
                afterTaken(this, _drained);
            }

            bool timerQueued = false;

            // The list is LIFO: walk it backwards so that arrival order is kept.
            for (int i = _drained.Count - 1; i >= 0; i--)
            {
                int tid = _drained[i];

                // Its give-way has arrived, whoever drained it: its grace alarm is not needed any more (G2).
                if (Interlocked.CompareExchange(ref _askedToGiveWay, 0, tid) == tid)
                {
                    ClearGraceAlarm();
                }
                if (!_scheduler.TryGetWorker(tid, out var worker))
                {
                    continue;
                }

                if (worker.TryHoldParked(out long seq))
                {
                    // Parked: held aside until unparked; a deadline arms a timer (the server's own heap).
                    long deadline = worker.ParkDeadlineNs;
                    if (deadline > 0)
                    {
                        if (deadline <= now && worker.TryTimeOut(seq))
                        {
                            Enqueue(worker);
                        }
                        else if (onServer)
                        {
                            _timers.Add(worker, seq, deadline);
                        }
                        else
                        {
                            _timerInbox.Enqueue((worker, seq, deadline));
                            timerQueued = true;
                        }
                    }

                    continue;
                }

                Enqueue(worker);
            }

            return timerQueued;
        }
    }

    /// <summary>How many workers wait on our runnable list (not drained yet): a scan of every block, for tests.</summary>
    internal int ListedForTests => TaskBlock.QueuedOnList((ulong)Self).Count;

    /// <summary>
    /// For tests: the server has ended its turn and sleeps in Wait, or is about to (RUNNABLE: its word committed), so
    /// its run queue holds still until something wakes it.
    /// </summary>
    internal bool WaitsForTests => StateWord.StateOf(Self) == TaskState.Runnable;

    /// <summary>S3's first half: deadlines of parks drained off the server's thread join the timer heap.</summary>
    private void TakeTimerInbox()
    {
        while (_timerInbox.TryDequeue(out var t))
        {
            _timers.Add(t.Worker, t.Seq, t.Deadline);
        }
    }
}
