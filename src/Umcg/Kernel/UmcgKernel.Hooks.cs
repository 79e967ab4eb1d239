using Umcg.Abi;

namespace Umcg.Kernel;

// The hooks a patched kernel runs by itself: entering and leaving a blocking region (sys_enter/schedule
// and sys_exit) and return-to-user (notify_resume), which here is an explicit safepoint.
public sealed unsafe partial class UmcgKernel
{
    /// <summary>
    /// The calling worker enters a blocking region: RUNNING → BLOCKED (blocked_ts stamped), and its server's CPU
    /// goes to its successor or its server. With next_tid naming a RUNNABLE worker of the same server (the
    /// direct successor, an extension of the RFC: see docs/conformance.md) the server's record moves to that
    /// worker, next_tid is consumed (set to 0) and the successor is woken; the server sleeps on. With next_tid =
    /// <see cref="UmcgConstants.TidOpen"/> the record is freed into an open slot (K12l), next_tid is consumed and
    /// nobody is woken: the next arrival claims the server. Without either, the record is freed and the server woken
    /// to run another worker. A non-worker caller gets EINVAL.
    /// </summary>
    /// <returns>
    /// Ok (also when already BLOCKED, e.g. marked by a detector: next_tid is then left as it was, for the caller to
    /// see that no switch happened); EINVAL (a non-worker; a next_tid naming the caller, a server or another server's
    /// worker); ESRCH (a next_tid naming no task); EAGAIN (the successor is not RUNNABLE). On those three errors of
    /// next_tid nothing changed: the caller still runs. ESRCH also if the worker's server is gone (the worker is removed).
    /// </returns>
    public Errno SysEnter()
    {
        var self = Current;
        if (self is null || !self.IsWorker)
        {
            return Errno.EINVAL;
        }

        return BlockWorker(self, onBehalf: false);
    }

    /// <summary>
    /// The calling worker leaves a blocking region: BLOCKED → RUNNABLE (runnable_ts stamped), queued on its
    /// server's runnable list, the server woken; returns once a server runs it again. A server open for arrivals
    /// (next_tid = <see cref="UmcgConstants.TidOpen"/>: it sleeps with nothing to run) is claimed instead, and the
    /// worker returns RUNNING at once (K12, an extension of the RFC).
    /// </summary>
    /// <returns>Ok (also when it never blocked: still RUNNING); EINVAL for a non-worker; ESRCH if its server is gone (the worker is removed).</returns>
    public Errno SysExit()
    {
        var self = Current;
        if (self is null || !self.IsWorker)
        {
            return Errno.EINVAL;
        }

        return self.State switch
        {
            TaskState.Running => Errno.Ok,
            TaskState.Blocked => Unblock(self),
            _ => Kill(self, Errno.EINVAL, $"left a blocking region in state {self.State}"),
        };
    }

    /// <summary>
    /// The return-to-user hook, run at a safepoint. RUNNING: returns at once. RUNNABLE with
    /// <see cref="TaskFlags.CondWait"/>: returns (the caller will Wait). RUNNING with
    /// <see cref="TaskFlags.Preempt"/> or <see cref="TaskFlags.Background"/>: the worker goes RUNNABLE, is queued, wakes
    /// its server (never next_tid; from the background, unless its arrival is quiet) and waits to be run again. BLOCKED by a detector: the unblock path. BLOCKED by its own
    /// <see cref="SysEnter"/>: returns (the region lasts until <see cref="SysExit"/>). Any other state user
    /// code wrote into a running worker's word (RUNNABLE without TF_COND_WAIT, BLOCKED the kernel half did not
    /// make, NONE, an unknown state) removes the worker with EINVAL.
    /// </summary>
    /// <returns>Ok, EINVAL for an unregistered caller, or the error that removed a worker that broke the protocol.</returns>
    public Errno NotifyResume()
    {
        var self = Current;
        if (self is null)
        {
            return Errno.EINVAL;
        }

        uint state = Volatile.Read(ref *self.StateWord) & (UmcgConstants.StateMask | UmcgConstants.FlagsMask);
        if (state == (uint)TaskState.Running || state == ((uint)TaskState.Runnable | (uint)TaskFlags.CondWait))
        {
            return Errno.Ok;
        }

        if (!self.IsWorker)
        {
            return (state & UmcgConstants.StateMask) == (uint)TaskState.Runnable ? SleepUntilRunning(self, 0) : Errno.Ok;
        }

        switch ((TaskState)(state & UmcgConstants.StateMask))
        {
            case TaskState.Running:
                // A background worker gives way at its next safepoint whether or not TF_PREEMPT is still set (a refused
                // Wait from the background leaves it RUNNING | TF_BACKGROUND without it). A flag user code wrote
                // without the kernel's mark takes this path too, and Preempt treats it as a foreground give-way.
                return (state & (uint)(TaskFlags.Preempt | TaskFlags.Background)) != 0 ? Preempt(self) : Errno.Ok;
            case TaskState.Blocked when Volatile.Read(ref self.BlockMark) is KernelTask.BlockMarks.InRegion or KernelTask.BlockMarks.Idle or KernelTask.BlockMarks.Unblocking:
                return Errno.Ok; // inside its own blocking region (offered or not): SysExit or an unblocker ends it, not a safepoint
            case TaskState.Blocked:
                return Unblock(self);
            default:
                return Kill(self, Errno.EINVAL, $"its state word was set to 0x{state:x4} by user code while it ran");
        }
    }

    /// <summary>
    /// A running worker is known to be blocked: on its own word (<see cref="SysEnter"/>) or on its behalf
    /// (<see cref="MarkBlocked"/>, by a detector).
    /// </summary>
    /// <remarks>
    /// The block mark is claimed before the state CAS, so that a BLOCKED made here is always marked by the
    /// time anyone can read it. If the state CAS then fails, the mark is given back with a CAS; should the
    /// worker have taken it meanwhile (it read BLOCKED that user code wrote, and our mark), it is unblocking as
    /// if we had blocked it, so we finish the block: its server is released and woken, and nothing hangs.
    /// </remarks>
    private Errno BlockWorker(KernelTask worker, bool onBehalf)
    {
        using var section = BlockGrace.Enter();
        if (ResolveServer(worker, out var server) != Errno.Ok)
        {
            return onBehalf ? Errno.ESRCH : Kill(worker, Errno.ESRCH, "its server_tid does not name a registered server");
        }

        // A detector's block has no successor: only the worker itself names one (step K3s), or asks to leave its server
        // open (K12l: next_tid = TID_OPEN).
        KernelTask? next = null;
        bool leaveOpen = !onBehalf && Volatile.Read(ref *worker.NextTidWord) == UmcgConstants.TidOpen;
        if (!onBehalf && !leaveOpen)
        {
            var named = ResolveSuccessor(worker, server, out next);
            if (named != Errno.Ok)
            {
                return named;
            }

            if (next is not null && next.State != TaskState.Runnable)
            {
                return Errno.EAGAIN;
            }
        }

        int mark = onBehalf ? KernelTask.BlockMarks.ByDetector : KernelTask.BlockMarks.InRegion;
        int held = Interlocked.CompareExchange(ref worker.BlockMark, mark, KernelTask.BlockMarks.None);
        if (held != KernelTask.BlockMarks.None)
        {
            // The kernel half blocked it already (a detector got there first): fine. Its own SysEnter now
            // makes it a region of its own, which only SysExit ends.
            if (!onBehalf && held == KernelTask.BlockMarks.ByDetector)
            {
                Interlocked.CompareExchange(ref worker.BlockMark, KernelTask.BlockMarks.InRegion, held);
            }

            return onBehalf && worker.State != TaskState.Blocked ? Errno.EAGAIN : Errno.Ok;
        }

        var r = UpdateState(worker, TaskState.Running, TaskState.Blocked, out uint replaced);
        if (r != Errno.Ok)
        {
            if (Interlocked.CompareExchange(ref worker.BlockMark, KernelTask.BlockMarks.None, mark) != mark)
            {
                ReleaseAndWakeServer(worker);
                return Errno.Ok;
            }

            if (worker.State == TaskState.Blocked && !onBehalf)
            {
                return Kill(worker, Errno.EINVAL, "its state word was set to BLOCKED by user code while it ran");
            }

            return r;
        }

        if (LeftBackground(replaced))
        {
            // K3 from the background: no record to release or move, no server to wake (it runs another worker, or
            // adopts none it cannot find). A next_tid is left as it was: the caller sees that no switch happened.
            return Errno.Ok;
        }

        // State first, record second: a server woken by anything else in between still finds its record
        // naming this worker, and sleeps until this release (or the successor's release) wakes it.
        if (next is not null)
        {
            // K3s: the record moves to the successor (it fails only if it does not name us: we were moved while
            // running), next_tid is consumed, and the successor is woken — by us, not by the server, which
            // sleeps on with a record that names a running worker. If the successor is no longer RUNNABLE by
            // then (its word was scribbled), the record goes back to the server and it is woken after all.
            if (!MoveSlot(worker, server, next))
            {
                return KillMovedWorker(worker);
            }

            Volatile.Write(ref *worker.NextTidWord, 0);
            bool lower = RanksBelow(next, worker);
            StartSwitchedTo(next, server);
            WakeServerIfOthersListed(server, left: worker, leftIsListed: false, successorRanksBelow: lower);
            return Errno.Ok;
        }

        // K12l: the record released into an open slot, and no wake: the server sleeps on, open to the next arrival.
        if (leaveOpen && LeaveServerOpen(worker, server))
        {
            Volatile.Write(ref *worker.NextTidWord, 0);
            return Errno.Ok;
        }

        if (!ReleaseSlot(worker, server))
        {
            // We moved it from RUNNING, so some server's record names it: not the one server_tid names now.
            if (onBehalf)
            {
                ReleaseSlotWherever(worker); // a detector never removes a worker; it unblocks at its safepoint
                return Errno.Ok;
            }

            return KillMovedWorker(worker);
        }

        WakeServer(server);
        return Errno.Ok;
    }

    /// <summary>
    /// Blocks a RUNNING worker on its behalf: what the kernel's schedule() hook does when the worker sleeps in
    /// the kernel. Used by detectors that see a worker asleep without a blocking region. The worker takes the
    /// unblock path at its next safepoint.
    /// </summary>
    /// <returns>Ok; EAGAIN if the worker was not RUNNING; ESRCH if <paramref name="tid"/> is not a worker.</returns>
    public Errno MarkBlocked(int tid)
    {
        using var section = BlockGrace.Enter();
        if (!_tasks.TryGet((uint)tid, out var worker) || !worker.IsWorker)
        {
            return Errno.ESRCH;
        }

        return BlockWorker(worker, onBehalf: true);
    }

    /// <summary>
    /// BLOCKED → RUNNABLE, queued on the server, server woken, and wait to be run — or, on a server open for arrivals
    /// (K12), RUNNING at once with no switch. Outside a registration the
    /// BLOCKED must be the kernel half's (its block mark is taken); one that user code wrote removes the worker.
    /// </summary>
    private Errno Unblock(KernelTask worker, bool registering = false)
    {
        KernelTask server;
        bool ranAtOnce = false;
        using (BlockGrace.Enter())
        {
            if (ResolveServer(worker, out server) != Errno.Ok)
            {
                return Kill(worker, Errno.ESRCH, "its server_tid does not name a registered server");
            }

            if (!registering && !TakeBlockMark(worker))
            {
                return Kill(worker, Errno.EINVAL, "its state word was set to BLOCKED by user code while it ran");
            }

            if (UpdateState(worker, TaskState.Blocked, TaskState.Runnable) != Errno.Ok)
            {
                return Kill(worker, Errno.EINVAL, $"unblocked in state {worker.State}, not BLOCKED");
            }

            // K12: an open server is claimed and we run on at once; else K4's push and wake.
            if (TryStartSelfOnOpenServer(worker, server, out var started))
            {
                if (started != Errno.Ok)
                {
                    return started;
                }

                ranAtOnce = true;
            }
            else
            {
                QueueArrival(worker, server);
            }
        }

        if (ranAtOnce)
        {
            FollowServerCpu(worker);
            return Errno.Ok;
        }

        return AwaitRun(worker, server);
    }

    /// <summary>
    /// K4's push and K4q's wake, for every worker that becomes runnable as an arrival: its own unblock, an unblocker's
    /// (K11u), and a background worker that gives way (K2, K5 from the background).
    /// </summary>
    private void QueueArrival(KernelTask worker, KernelTask server)
    {
        PushRunnable(worker, server);
        if (!IsQuietArrival(worker, server))
        {
            WakeServer(server);
        }
    }

    /// <summary>
    /// K4q, quiet arrivals (an extension of the RFC): a worker just pushed on a busy server's list does not wake
    /// it when user space said it need not — the server's quiet margin m is not 0 and the worker's rank is below
    /// the running worker's rank + m − 1 (see <see cref="UmcgConstants.ArrivalMask"/>). The worker then waits on
    /// the list until the running worker (or its successor) drains it when it stops, or the server looks for
    /// another reason (a deadline, another arrival, a wake).
    /// </summary>
    /// <remarks>
    /// Read after the push, whose CAS is a full fence. Against the server: it writes its margin (a CAS) and then
    /// re-reads its list before it sleeps, so either it sees this push or this read sees its margin. Against a
    /// switch to a successor (K2, K3s): the record moves (a CAS) before the switcher looks at the list
    /// (<see cref="WakeServerIfOthersListed"/>), so either this read finds the successor in the record and
    /// compares with its rank, or the switcher finds this push and wakes the server. A record that names no
    /// running worker always wakes: the server may be asleep with nothing to run, and nobody else would drain.
    /// </remarks>
    private bool IsQuietArrival(KernelTask worker, KernelTask server)
    {
        int margin = StateWord.ArrivalOf(server.Block);
        int runningTid = margin == 0 ? 0 : server.Slot.Worker;
        if (runningTid == 0 || !_tasks.TryGet((uint)runningTid, out var running))
        {
            return false;
        }

        return StateWord.ArrivalOf(worker.Block) < StateWord.ArrivalOf(running.Block) + margin - 1;
    }

    /// <summary>
    /// Q3, decided before a switch wakes its successor: whether <paramref name="successor"/> ranks below
    /// <paramref name="left"/>, so that an arrival quiet against the one may not be against the other. Read while the
    /// successor still waits RUNNABLE, its body (and so its rank) fixed; once woken it may finish that body and be given
    /// another of a different rank before the switcher looks. The worker that left is the caller: its rank is fixed.
    /// </summary>
    private static bool RanksBelow(KernelTask successor, KernelTask left) =>
        StateWord.ArrivalOf(successor.Block) < StateWord.ArrivalOf(left.Block);

    /// <summary>
    /// After a switch moved <paramref name="server"/>'s record to a successor that ranks below the worker that left
    /// (<paramref name="successorRanksBelow"/>, from <see cref="RanksBelow"/>): if the server lets arrivals be quiet and
    /// its list holds an entry other than the switcher's own (<paramref name="leftIsListed"/>: the switcher,
    /// <paramref name="left"/>, queued itself — a yield or a park), that arrival may have judged itself quiet against
    /// the worker that left and would not be against the successor — wake the server to look (see
    /// <see cref="IsQuietArrival"/>). A successor of the same rank or higher keeps every such arrival quiet (same
    /// margin, a bar as high), so the switch wakes nobody, as the RFC's does; so does a margin of 0: no arrival was
    /// quiet (a server that lowers its margin to 0 looks at its list after doing so).
    /// </summary>
    private void WakeServerIfOthersListed(KernelTask server, KernelTask left, bool leftIsListed, bool successorRanksBelow)
    {
        if (!successorRanksBelow || StateWord.ArrivalOf(server.Block) == 0)
        {
            return;
        }

        ulong head = Volatile.Read(ref server.Block->RunnableWorkersPtr);
        bool others = leftIsListed && head == (ulong)left.Block
            ? Volatile.Read(ref left.Block->RunnableWorkersPtr) != 0
            : head != 0;
        if (others)
        {
            WakeServer(server);
        }
    }

    private Errno Preempt(KernelTask worker)
    {
        KernelTask server;
        using (BlockGrace.Enter())
        {
            if (ResolveServer(worker, out server) != Errno.Ok)
            {
                return Kill(worker, Errno.ESRCH, "its server_tid does not name a registered server");
            }

            if (UpdateState(worker, TaskState.Running, TaskState.Runnable, out uint replaced) != Errno.Ok)
            {
                return Errno.Ok; // No longer RUNNING: a concurrent transition already took it off the CPU.
            }

            if (LeftBackground(replaced))
            {
                // K5 from the background: queued like an arrival; it held no record.
                QueueArrival(worker, server); // queued like an unblocking worker
            }

            // Before anything is queued (see WorkerWait): a moved worker never reaches another server's list.
            else if (!server.Slot.Holds(worker.Tid) || !ReleaseSlotAfterQueueing(worker, server))
            {
                return KillMovedWorker(worker);
            }
        }

        return AwaitRun(worker, server);
    }

    /// <summary>Queue first, then release the record, then wake: the server that wakes finds the record empty and the worker on its list.</summary>
    private bool ReleaseSlotAfterQueueing(KernelTask worker, KernelTask server)
    {
        PushRunnable(worker, server);
        if (!ReleaseSlot(worker, server))
        {
            return false;
        }

        WakeServer(server);
        return true;
    }
}
