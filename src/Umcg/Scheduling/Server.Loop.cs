using Umcg.Abi;
using Umcg.Diagnostics;
using Umcg.Kernel;

namespace Umcg.Scheduling;

// The server loop: the canonical loop of the RFC's UMCG_TF_COND_WAIT comment, with a policy, timers,
// preemption and balancing added. docs/scheduling.md refers to the steps (S1…S6) and invariants (V1…V6) here;
// the kernel half's steps (K1…K8) and invariants (I1…I7) are in the head of Kernel/UmcgKernel.cs.
//
// Steps of one turn (ServeOnce)
//   S1 RUNNABLE|COND_WAIT (StateWord.PrepareWait): from here on a wake (a worker unblocking, an unpark, another
//      server handing work over) turns the coming Wait into EAGAIN instead of being lost.
//   S2 drain: the kernel half's runnable list with one exchange (RunnableList.Drain, walked backwards: it is
//      LIFO), then the inbox of workers made runnable by user space. A worker that arrives parking is held
//      aside (park step P3, WorkerThread.Parking.cs), a deadline arming a timer; every other goes to the run
//      queue (Server.RunQueue.cs).
//   S3 timers: parked workers whose deadline passed (park step P5) go to the run queue.
//   S4 pick or preempt: if the slot holds no TID_RUNNING, the policy's next worker (or one stolen from a busy
//      server) is written there as a pick; a pick from an earlier turn whose Wait returned EAGAIN stays while
//      its worker is RUNNABLE. If a worker runs, the policy may want it to give way (ShouldPreempt, or its
//      TimeSlice ran out): TF_PREEMPT and a Kick, and it yields at its next safepoint (K5) — or, if it reaches none
//      within the grace period, it is demoted to the background (D1, D2 in Server.Demotion.cs) and the same turn picks
//      again. With nothing to pick, a background worker may be adopted back (D4).
//   S5 balance: runnable work this server cannot run now is handed to idle servers (inbox and Wake).
//   S6 Wait (K1) until a worker gives the CPU back, something becomes runnable, or the nearest deadline (a
//      timer, the running worker's slice end, or once its preemption is requested a look again one slice
//      later: a direct switch before any safepoint clears the request and wakes nobody; a pending give-way's grace
//      rings us through the grace alarm instead, Server.GraceAlarm.cs). With nothing to run the
//      server sleeps open (O1, O2 in Server.OpenStart.cs): the first arrival starts itself, and the server sleeps on.
//
// Invariants
//   V1 at most one worker per server runs user code: the kernel half's I1; the loop writes a pick only when
//      the slot holds no TID_RUNNING (S4).
//   V2 a worker is in at most one run queue, or held parked, or running: it reaches a server only through the
//      runnable list (after it stopped running), the inbox (after an unpark or hand-over) or a timer; the run
//      queue checks R1–R3 (Server.RunQueue.cs).
//   V3 server_tid changes only while the worker does not run: MoveTo is called for queued workers (steal,
//      hand-over) and idle pooled ones (BLOCKED), so the kernel half's release always finds the server it ran for.
//   V4 no lost wake of a server: every producer publishes (list push, inbox enqueue, run-queue insert) before
//      it CASes the server's state RUNNABLE → RUNNING (Wake); the server sets RUNNABLE (S1) before it reads;
//      both sides use full fences. A worker that queues beside the running one without a wake is covered by
//      _sliceArmed (Server.cs).
//   V5 no lost unpark: the park word goes Parking → Parked only on the server, after the worker is off its CPU
//      (P3); an unpark that comes while Parking flips it to Unparked, and S2 then queues the worker at once.
//   V6 a timer never ends a later park: the park word carries a sequence; the timer's CAS expects its own.
internal sealed unsafe partial class Server
{
    private readonly List<int> _drained = [];

    // The worker whose time slice is being measured, and when its slice began: when the loop first saw it running,
    // or when the worker before it handed it the CPU (H2). Under _queueLock.
    private int _sliceOwner;
    private long _sliceStartNs;

    // The worker this loop asked to give way whose give-way it has not seen yet, and how soon to look again.
    // Written by the server; cleared (by CAS, expecting the worker's TID) by whichever drain takes the give-way off
    // our list — the server's, or a worker's before it picks a successor. The re-check interval is the server's own. A worker that gives way is pushed on our runnable list, but a direct switch pushes
    // it *after* it moved the slot to its target and wakes nobody: a turn that falls between the two (the
    // re-check one slice after the request) finds the target running, nothing queued, so no slice to arm, and
    // would sleep with no deadline while the switcher waits on our list. So until a drain finds the asked
    // worker (or it blocks or leaves), the loop keeps looking again one slice later while it is off the CPU.
    private int _askedToGiveWay;
    private long _giveWayRecheckNs;

    // The OS slice this thread last asked for (OsSliceGovernor.CurrentNs at the time). Server thread only.
    private long _askedSliceNs;

    /// <summary>The OS's slice: asked again when it changed since this server last asked (<see cref="OsSliceGovernor"/>).</summary>
    private void FollowOsSlice() => ThreadSlice.AskIfChanged(ref _askedSliceNs, _scheduler.OsSliceNs);

    private void Loop()
    {
        try
        {
            PinSelf();
            _askedSliceNs = _scheduler.OsSliceNs;
            ThreadSlice.Ask(_askedSliceNs);
            Tid = UmcgKernel.CurrentTid;
            Self->ServerTid = (uint)Tid;
            Self->State = (uint)TaskState.Running;
            UmcgProtocolException.ThrowIfFailed(Kernel.Ctl(CtlFlags.Register, Self, ClockId.Monotonic), "register server");
        }
#pragma warning disable CA1031 // Reported to the thread that starts the scheduler.
        catch (Exception e)
        {
            _startFailure = e;
            _registered.Set();
            return;
        }
#pragma warning restore CA1031

        _registered.Set();
        SchedulerTelemetry.ServerStarted(this);
        try
        {
            Serve();
        }
#pragma warning disable CA1031 // A broken server is reported; the scheduler surfaces it on shutdown.
        catch (Exception e)
        {
            _scheduler.ReportFault(e);
        }
#pragma warning restore CA1031
        finally
        {
            ReportPolicyFault();
            Kernel.Ctl(CtlFlags.Unregister, Self, ClockId.Monotonic);
            SchedulerTelemetry.ServerStopped(this);
            _scheduler.OnServerExited();
        }
    }

    private void Serve()
    {
        while (true)
        {
            try
            {
                if (!ServeOnce())
                {
                    return;
                }
            }
#pragma warning disable CA1031 // A server that died would strand every worker it holds: report and go on.
            catch (Exception e)
            {
                _scheduler.ReportFault(e);
            }
#pragma warning restore CA1031
        }
    }

    /// <summary>One turn of the loop. False once the server should leave.</summary>
    private bool ServeOnce()
    {
        {
            // S1. RUNNABLE|COND_WAIT first: a wake from here on turns our Wait into EAGAIN instead of being lost.
            StateWord.PrepareWait(Self);

            // Before any read of the policy this turn (see _sliceArmed): NextDeadline sets it again.
            _sliceArmed = false;

            // S2. Take everything that became runnable: the kernel half's list (one exchange), then user space's inbox.
            long now = KernelClock.Now(ClockId.Monotonic);
            FollowOsSlice();
            DrainRunnableList(now, onServer: true);
            while (_inbox.TryDequeue(out var ready))
            {
                Enqueue(ready);
            }

            // S3. Timers: parked workers whose deadline passed become runnable (deadlines of parks a worker or a
            // thief drained come through the timer inbox).
            TakeTimerInbox();
            _timers.FireDue(now, Enqueue);

            // S4. Run something if nothing runs for us; otherwise see whether the running worker must give way, and
            // demote it if it overstayed a give-way asked earlier (D1, D2: then the record is empty, and we pick).
            // A block may have left the slot open since we woke (O5): taken back first (O2), or a claim is read. The
            // fence first: our drain's enqueues above before this read, against O5's open-then-look-at-our-queue.
            Interlocked.MemoryBarrier();
            var slot = Slot;
            while (slot.IsOpen)
            {
                // A failed shut is a claim; that claimer may already have blocked and opened the slot again.
                ShutToArrivals();
                slot = Slot;
            }

            WorkerThread? running = null;
            if (slot.IsRunning)
            {
                _scheduler.TryGetWorker(slot.Tid, out running);
                if (running is not null)
                {
                    MaybePreempt(running, SliceStart(running, now), now);
                    if (DemoteIfOverstayed(running, now))
                    {
                        running = null;
                        slot = Slot;
                    }
                }
            }

            if (!slot.IsRunning)
            {
                running = RunSomething(slot, now);
            }

            // S5. Balancing: runnable work we cannot run now goes to an idle server.
            if (_scheduler.Options.Balance && running is not null)
            {
                OfferToIdleServers();
            }

            ReportPolicyFault();
            bool nothing = Slot.IsEmpty;
            AccountOpenSpells(now);
            Counters.AccountBusy(now, busy: !nothing);
            if (nothing && _stopping && _scheduler.WorkerThreadCount == 0)
            {
                Interlocked.Exchange(ref Self->State, (uint)TaskState.Running);
                return false;
            }

            // S6. Sleep until a worker gives the CPU back, something becomes runnable, or the nearest deadline. The
            // quiet margin (Q1) goes out first: it depends on the deadline just armed, and an arrival that came
            // since the drain makes us take another turn instead.
            long deadline = NextDeadline(running, now);
            _idle = nothing;
            bool mayOpen = nothing && MayOpen;
            // Not ||: the margin is published whatever the failed adoption says (its CAS is Q1's half of the race).
            if (TakeLookAgain() | !PublishQuietMargin(forAWorker: !nothing || mayOpen))
            {
                _idle = false;
                return true;
            }

            // O1, O2 (Server.OpenStart.cs): with nothing to run, the first arrival may start itself while we sleep.
            bool open = mayOpen && OpenToArrivals();
            var r = Kernel.Wait(0, deadline);
            if (open || Slot.IsOpen)
            {
                ShutToArrivals(); // ours, or one a block left (O5)
            }

            _idle = false;
            switch (r)
            {
                case Errno.Ok:
                case Errno.EAGAIN: // woken before we slept, or the pick was no longer RUNNABLE: look again
                    break;
                case Errno.ETIMEDOUT:
                    Counters.TimerWakes++;
                    break;
                default:
                    // The picked worker is gone (ESRCH) or not ours (EINVAL): drop the pick and go on.
                    Volatile.Write(ref Self->NextTid, 0);
                    _scheduler.ReportFault(new UmcgProtocolException("server wait", r));
                    break;
            }

            return true;
        }
    }

    /// <summary>
    /// S4 with no worker running for us: a pick still pending from an earlier turn, else a background worker adopted back
    /// (D4), else the policy's next worker (or a stolen one) written to next_tid as a pick. The worker that will run, or null.
    /// </summary>
    private WorkerThread? RunSomething(RunningSlot slot, long now)
    {
        if (IsPendingPick(slot))
        {
            _scheduler.TryGetWorker((int)slot.Raw, out var pending);
            return pending;
        }

        if (AdoptIfNothingBetter(now) is { } adopted)
        {
            // K10 wrote the record and its mirror: it runs already.
            _sliceOwner = 0;
            return adopted;
        }

        var next = PickNext();
        next?.RestoreIfDemoted(); // D4: at its own priority before it runs for us
        Volatile.Write(ref Self->NextTid, next is null ? 0u : RunningSlot.Pick(next.Tid).Raw);
        if (next is not null)
        {
            _scheduler.Telemetry.Picked(this, next);
            _sliceOwner = 0; // a fresh pick starts a fresh slice, even for the worker that ran last

            // One volatile read, unless the detector backed off while nothing ran: then it wakes.
            _scheduler.Detector?.NoteRunning();
        }

        return next;
    }

    /// <summary>A pick written on an earlier loop whose Wait returned EAGAIN: keep it if it is still RUNNABLE.</summary>
    private bool IsPendingPick(RunningSlot slot)
    {
        if (slot.IsEmpty)
        {
            return false;
        }

        var block = slot.IsPick ? Kernel.BlockOf(slot.Tid) : null;
        if (block != null && StateWord.StateOf(block) == TaskState.Runnable)
        {
            return true;
        }

        // By CAS from what we read: anything else there now is not ours to drop.
        Interlocked.CompareExchange(ref Self->NextTid, 0, slot.Raw);
        return false;
    }

    /// <summary>
    /// When the running worker's slice began: the first turn of the loop that saw it running. Measured by the
    /// server, not by the worker, which may not have stamped its own start yet when the server looks.
    /// </summary>
    private long SliceStart(WorkerThread running, long now)
    {
        // Under the run-queue lock: a worker that hands the CPU to its successor stamps the successor's start (H2).
        lock (_queueLock)
        {
            if (running.Tid != _sliceOwner)
            {
                _sliceOwner = running.Tid;
                _sliceStartNs = now;
            }

            return _sliceStartNs;
        }
    }

    private void MaybePreempt(WorkerThread running, long sliceStart, long now)
    {
        bool preempt;
        long sliceEnd = 0;
        lock (_queueLock)
        {
            preempt = _policy.ShouldPreempt(running);
            if (!preempt && _policy.TimeSlice(running) is { } slice)
            {
                sliceEnd = sliceStart + (long)slice.TotalNanoseconds;
                preempt = now >= sliceEnd;
            }
        }

        // Flag once; the kick makes the worker act on it at its next safepoint.
        var block = running.Block.Task;
        if (preempt && (StateWord.FlagsOf(block) & TaskFlags.Preempt) == 0)
        {
            // Named before the request: a drain that takes the give-way off our list, on any thread, clears it.
            Volatile.Write(ref _askedToGiveWay, running.Tid);
            if (!StateWord.RequestPreempt(block))
            {
                Interlocked.CompareExchange(ref _askedToGiveWay, 0, running.Tid);
                return;
            }

            _giveWayRecheckNs = sliceEnd > sliceStart ? sliceEnd - sliceStart : DefaultGiveWayRecheckNs;
            NoteGiveWayAsked(running, now);
            Kernel.Kick(0, running.Tid);
            _scheduler.Telemetry.PreemptRequested(this, running);
        }
    }

    private long NextDeadline(WorkerThread? running, long now)
    {
        long deadline = Earliest(_timers.NextDeadline, GiveWayRecheck(now));
        if (running is null)
        {
            ClearGraceAlarm();
            return Earliest(deadline, AdoptionDeadline());
        }

        ForegroundRuns();

        // D1: look again when a pending give-way's grace ends — rung by the grace alarm where there is one (G1).
        long graceEnd = DemotionDeadline(running);
        if (graceEnd != 0)
        {
            _sliceArmed = true;
        }

        deadline = Earliest(deadline, SetGraceAlarm(running, graceEnd));

        TimeSpan? slice;
        lock (_queueLock)
        {
            slice = _policy.TimeSlice(running);
        }

        if (slice is not { } s)
        {
            return deadline;
        }

        long sliceEnd = SliceStart(running, now) + (long)s.TotalNanoseconds;
        if ((StateWord.FlagsOf(running.Block.Task) & TaskFlags.Preempt) != 0)
        {
            // The preemption is requested, so the slice's end has done its job (waking for it again would only
            // spin the loop on a deadline in the past until the worker reaches its safepoint). But look again one
            // slice from now: the worker may switch straight to a queued worker before any safepoint, which
            // clears the request and wakes nobody; with no deadline we would sleep for as long as that one runs,
            // and the worker that switched, queued behind it, would wait for as long.
            sliceEnd = now + (long)s.TotalNanoseconds;
        }

        _sliceArmed = true;
        return Earliest(deadline, sliceEnd);
    }

    /// <summary>How soon to look again for a give-way requested by a policy that has no time slice.</summary>
    private const long DefaultGiveWayRecheckNs = 1_000_000;

    /// <summary>The earlier of two deadlines, where 0 means none.</summary>
    private static long Earliest(long a, long b) => a == 0 ? b : b == 0 ? a : Math.Min(a, b);

    /// <summary>
    /// A deadline one re-check from now while the worker asked to give way is off the CPU but not yet seen on our
    /// list (see <see cref="_askedToGiveWay"/>); 0 once there is nothing to wait for.
    /// </summary>
    private long GiveWayRecheck(long now)
    {
        int asked = Volatile.Read(ref _askedToGiveWay);
        if (asked == 0)
        {
            return 0;
        }

        if (!_scheduler.TryGetWorker(asked, out var worker))
        {
            Interlocked.CompareExchange(ref _askedToGiveWay, 0, asked); // gone: its exit woke us
            return 0;
        }

        switch (StateWord.StateOf(worker.Block.Task))
        {
            case TaskState.Running:
                // Not given way yet: the slice's deadline, re-armed while its request is pending, looks after it.
                return 0;
            case TaskState.Runnable:
                // Off the CPU and not drained: on its way onto our list. A switch moves the slot before its push,
                // and a turn may even find it still in the slot between its PrepareWait and that move.
                break;
            default:
                Interlocked.CompareExchange(ref _askedToGiveWay, 0, asked); // BLOCKED: its unblock wakes us as usual
                return 0;
        }

        _sliceArmed = true;
        return now + _giveWayRecheckNs;
    }

    /// <summary>Hands queued workers to idle servers while we are busy: the SMP wake-to-remote-idle.</summary>
    private void OfferToIdleServers()
    {
        foreach (var other in _scheduler.Servers)
        {
            if (QueueLength == 0)
            {
                return;
            }

            if (ReferenceEquals(other, this) || !other.IsIdle)
            {
                continue;
            }

            var w = GiveAway();
            if (w is null)
            {
                return;
            }

            w.MoveTo(other);
            other._inbox.Enqueue(w);
            other.Wake();
            _scheduler.Telemetry.HandedOver(this, other, w);
        }
    }

    /// <summary>
    /// Nothing to run here: take a worker a busy server cannot run now — for our own loop (S4), or as the successor of
    /// our worker that stops with nothing queued (<paramref name="forSuccessor"/>, H2s, on that worker's thread).
    /// </summary>
    private WorkerThread? StealFromBusyServer(bool forSuccessor = false)
    {
        var servers = _scheduler.Servers;
        for (int i = 1; i < servers.Length; i++)
        {
            var victim = servers[(Index + i) % servers.Length];
            var w = victim.TryStealFor(this);
            if (w is not null)
            {
                _scheduler.Telemetry.Stole(this, victim, w, forSuccessor);
                return w;
            }
        }

        return null;
    }
}
