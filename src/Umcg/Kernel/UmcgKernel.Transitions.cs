using Umcg.Abi;
using Umcg.Kernel.Native;

namespace Umcg.Kernel;

// The building blocks every call is made of: a state transition, a wake, an enqueue on a runnable list,
// and the server's running slot (its next_tid with TID_RUNNING).
public sealed unsafe partial class UmcgKernel
{
    /// <summary>
    /// CAS the task's state from <paramref name="from"/> to <paramref name="to"/>, keeping the user bits and
    /// clearing TF_PREEMPT, TF_COND_WAIT and TF_BACKGROUND; stamps blocked_ts/runnable_ts. EAGAIN if the state is
    /// not <paramref name="from"/>.
    /// </summary>
    private static Errno UpdateState(KernelTask task, TaskState from, TaskState to) => UpdateState(task, from, to, out _);

    /// <summary>
    /// <see cref="UpdateState(KernelTask, TaskState, TaskState)"/>, telling the caller the word its CAS replaced
    /// (whether the worker was in the background at that instant: see UmcgKernel.Background.cs) and keeping the
    /// flags in <paramref name="keep"/>.
    /// </summary>
    private static Errno UpdateState(KernelTask task, TaskState from, TaskState to, out uint replaced, uint keep = 0)
    {
        // The kernel half asks only for the edges of the state machine in the head of UmcgKernel.cs, and only a
        // worker blocks. Anything else is a path of ours gone wrong; a state user code wrote makes the CAS
        // below fail with EAGAIN instead, as before.
        ProtocolBug.Check(IsKernelEdge(from, to) && (to != TaskState.Blocked || task.IsWorker), "UpdateState follows an edge of the state machine");

        // Read the clock before the CAS, as the kernel does: the stamp is "no later than" the transition. With an
        // observer every transition is stamped so: one made because of an earlier one is never stamped before it.
        var observer = task.Kernel.Observer;
        long now = to >= TaskState.Runnable || observer is not null ? KernelClock.Now(task.Clock) : 0;
        uint* word = task.StateWord;
        uint old = Volatile.Read(ref *word);
        const uint transient = (uint)(TaskFlags.Preempt | TaskFlags.CondWait | TaskFlags.Background);
        while (true)
        {
            replaced = old;
            if ((old & UmcgConstants.StateMask) != (uint)from)
            {
                return Errno.EAGAIN;
            }

            uint updated = (old & ~(UmcgConstants.StateMask | (transient & ~keep))) | (uint)to;

            // Full fence: a waker's CAS here orders everything it wrote before (a server's slot, a list
            // push) ahead of the sleeper's re-read of its state.
            uint seen = Interlocked.CompareExchange(ref *word, updated, old);
            if (seen == old)
            {
                break;
            }

            old = seen;
        }

        // The flag went with this CAS: so does the mark, in the same step, before anyone can run and demote the task
        // again. A flag without the mark was written by user code: reported as no flag.
        if ((old & (uint)TaskFlags.Background & ~keep) != 0 && Interlocked.Exchange(ref task.BackgroundMark, 0) == 0)
        {
            replaced = old & ~(uint)TaskFlags.Background;
        }

        if (to == TaskState.Blocked)
        {
            Volatile.Write(ref task.Block->BlockedTs, (ulong)now);
        }
        else if (to == TaskState.Runnable)
        {
            Volatile.Write(ref task.Block->RunnableTs, (ulong)now);
        }

        observer?.OnTransition(task, from, to, now);
        return Errno.Ok;
    }

    // One bit per (from, to) the kernel half may ask UpdateState for, at from * 4 + to: RUNNING → NONE, BLOCKED,
    // RUNNABLE; BLOCKED → RUNNABLE; RUNNABLE → RUNNING, RUNNABLE (clearing TF_COND_WAIT), NONE (orphaned).
    private const int KernelEdges =
        1 << (((int)TaskState.Running * 4) + (int)TaskState.None)
        | 1 << (((int)TaskState.Running * 4) + (int)TaskState.Blocked)
        | 1 << (((int)TaskState.Running * 4) + (int)TaskState.Runnable)
        | 1 << (((int)TaskState.Blocked * 4) + (int)TaskState.Runnable)
        | 1 << (((int)TaskState.Runnable * 4) + (int)TaskState.Running)
        | 1 << (((int)TaskState.Runnable * 4) + (int)TaskState.Runnable)
        | 1 << (((int)TaskState.Runnable * 4) + (int)TaskState.None);

    /// <summary>Whether <paramref name="from"/> → <paramref name="to"/> is an edge the kernel half takes (one shift and a test).</summary>
    internal static bool IsKernelEdge(TaskState from, TaskState to) =>
        (uint)from <= (uint)TaskState.Blocked && (uint)to <= (uint)TaskState.Blocked && (KernelEdges >> (((int)from * 4) + (int)to) & 1) != 0;

    /// <summary>RUNNABLE → RUNNING, then wake the sleeper. EAGAIN if it was not RUNNABLE (never woken twice).</summary>
    private Errno WakeTask(KernelTask task)
    {
        var r = UpdateState(task, TaskState.Runnable, TaskState.Running);
        if (r == Errno.Ok)
        {
            // The state changed before the wake: a sleeper that has not parked yet sees RUNNING and never parks.
            Parker.Unpark(task.StateWord);
        }

        return r;
    }

    /// <summary>Wakes a server; a server that is not RUNNABLE is already running (or timed out) and will look anyway.</summary>
    private void WakeServer(KernelTask server) => WakeTask(server);

    /// <summary>
    /// Resolves the server a worker names, through the task table. ESRCH unless server_tid is exactly the TID
    /// of a registered server: bits 30 and 31 are not part of a TID, so a value carrying either names nobody.
    /// </summary>
    private Errno ResolveServer(KernelTask worker, out KernelTask server)
    {
        uint serverTid = Volatile.Read(ref worker.Block->ServerTid);
        if (_tasks.TryGet(serverTid, out server) && !server.IsWorker)
        {
            return Errno.Ok;
        }

        server = null!;
        return Errno.ESRCH;
    }

    /// <summary>
    /// Pushes the worker's block on the server's runnable list: a lock-free LIFO whose head is the server's
    /// runnable_workers_ptr and whose links are the workers' own runnable_workers_ptr. Call inside a read
    /// section (it writes the server's block).
    /// </summary>
    /// <remarks>
    /// The worker must already be RUNNABLE (user space removes an entry from the list before it changes the
    /// entry's state). The kernel half never dereferences the old head: it only stores it as our link.
    /// The block's "queued" mark (<see cref="TaskBlock.QueuedOn"/>) is claimed first: a block whose entry is
    /// still on this list (it was switched to directly, or registered again before a drain) is not pushed a
    /// second time — the entry is there, and the drain that takes it finds the worker RUNNABLE. A block
    /// whose entry is still on another server's list cannot be pushed either (its one link is in use); that
    /// server is woken, and its drain forwards the entry here.
    /// </remarks>
    private void PushRunnable(KernelTask worker, KernelTask server)
    {
        // Callers resolved both through the table (ResolveServer refuses a worker as server): a server's block
        // on a list, or a list headed by a worker's block, would be a path of ours gone wrong.
        ProtocolBug.Check(worker.IsWorker && !server.IsWorker, "only a worker is queued, and only on a server's list");
        ulong list = (ulong)server.Block;

        // Full fence: the state change to RUNNABLE before this is visible to a drain that clears the mark
        // after we saw it set, so that drain's server sees the worker RUNNABLE.
        ulong queuedOn = Interlocked.CompareExchange(ref worker.Owner.QueuedOn, list, 0);
        if (queuedOn == list)
        {
            return;
        }

        if (queuedOn != 0)
        {
            if (_tasks.TryGetByBlock(queuedOn, out var holder) && !holder.IsWorker)
            {
                WakeServer(holder);
            }

            return;
        }

        ulong* head = &server.Block->RunnableWorkersPtr;
        ulong self = (ulong)worker.Block;
        ulong first = Volatile.Read(ref *head);
        while (true)
        {
            // The link must be visible before the block is: the CAS below publishes both (full fence).
            Volatile.Write(ref worker.Block->RunnableWorkersPtr, first);
            ulong seen = Interlocked.CompareExchange(ref *head, self, first);
            if (seen == first)
            {
                return;
            }

            first = seen;
        }
    }

    /// <summary>
    /// A drain of the list at <paramref name="fromList"/> took off an entry whose worker belongs to another
    /// server now (its block was registered again for that server while the old entry was listed): push it on
    /// its own server's list and wake that server. False if the worker belongs to this list's server, or is
    /// not RUNNABLE (nothing to forward). Called inside the drain's read section, after the mark was cleared.
    /// </summary>
    internal bool TryForward(KernelTask worker, ulong fromList)
    {
        if (ResolveServer(worker, out var server) != Errno.Ok || (ulong)server.Block == fromList || worker.State != TaskState.Runnable)
        {
            return false;
        }

        PushRunnable(worker, server);
        WakeServer(server);
        return true;
    }

    /// <summary>
    /// The server runs <paramref name="worker"/>: record it, mirror it in next_tid with TID_RUNNING, then wake
    /// it. Record and mirror first: the worker may run and block at once, and releases only a record naming it.
    /// </summary>
    /// <returns>Ok (also when a worker already runs: the server just sleeps); EAGAIN if the worker was not RUNNABLE.</returns>
    private Errno StartWorker(KernelTask server, KernelTask worker)
    {
        if (!server.Slot.TryStart(worker.Tid))
        {
            return Errno.Ok;
        }

        uint marked = RunningSlot.Running(worker.Tid).Raw;
        Volatile.Write(ref *server.NextTidWord, marked);
        MoveToServerCpu(worker, server);
        var r = WakeTask(worker);
        if (r != Errno.Ok)
        {
            // Mirror back first, record second: the record is what lets the next start in.
            Interlocked.CompareExchange(ref *server.NextTidWord, RunningSlot.Pick(worker.Tid).Raw, marked);
            server.Slot.TryRelease(worker.Tid);
        }

        return r;
    }

    /// <summary>
    /// The worker stops running for its server: clear the server's record if it names this worker, and the
    /// next_tid mirror with it. Returns whether it did (false: the record names another worker, or none).
    /// </summary>
    /// <remarks>
    /// Mirror first, record second: while the record still names this worker no new worker can be started
    /// on the server, so clearing the mirror cannot wipe out a successor's. A CAS on the mirror too: if user
    /// code overwrote it, its value is left for the server to read.
    /// </remarks>
    private static bool ReleaseSlot(KernelTask worker, KernelTask server)
    {
        ProtocolBug.Check(worker.IsWorker && !server.IsWorker, "a worker releases a server's record");
        if (!server.Slot.Holds(worker.Tid))
        {
            return false;
        }

        Interlocked.CompareExchange(ref *server.NextTidWord, 0, RunningSlot.Running(worker.Tid).Raw);
        return server.Slot.TryRelease(worker.Tid);
    }

    /// <summary>
    /// The direct worker→worker handoff, step one: the server's record (and its mirror) moves from
    /// <paramref name="worker"/> to <paramref name="next"/>. False if the record does not name
    /// <paramref name="worker"/>.
    /// </summary>
    /// <remarks>
    /// Record first, wake second (<see cref="StartSwitchedTo"/>): once next runs it may block at once and
    /// release the record, and it can only release a record that already names it. While the record names
    /// next, nobody else wakes it: its server does not start anyone while its record is not empty. The
    /// mirror is a plain store: next is not awake yet, so no other kernel path writes this server's mirror.
    /// </remarks>
    private static bool MoveSlot(KernelTask worker, KernelTask server, KernelTask next)
    {
        if (!server.Slot.TryMove(worker.Tid, next.Tid))
        {
            return false;
        }

        Volatile.Write(ref *server.NextTidWord, RunningSlot.Running(next.Tid).Raw);
        return true;
    }

    /// <summary>
    /// Step two: wake <paramref name="next"/>, which holds the record now. If it is no longer RUNNABLE (its
    /// block was scribbled), the record goes back to the server, which is woken to run someone else.
    /// </summary>
    private void StartSwitchedTo(KernelTask next, KernelTask server)
    {
        MoveToServerCpu(next, server);
        if (WakeTask(next) != Errno.Ok && ReleaseSlot(next, server))
        {
            WakeServer(server);
        }
    }

    /// <summary>
    /// Sleeps until the caller's state is RUNNING. EINVAL if it becomes neither RUNNABLE nor RUNNING; ESRCH
    /// for a worker whose server went away meanwhile (it is then orphaned: NONE). Never inside a read section.
    /// </summary>
    /// <param name="self">The sleeping task.</param>
    /// <param name="deadlineNs">A server's absolute deadline, or 0.</param>
    /// <param name="server">A worker's server (whose departure ends the sleep), or null.</param>
    private Errno SleepUntilRunning(KernelTask self, long deadlineNs, KernelTask? server = null)
    {
        uint* word = self.StateWord;
        while (true)
        {
            uint seen = Volatile.Read(ref *word);
            uint state = seen & UmcgConstants.StateMask;
            if (state == (uint)TaskState.Running)
            {
                return Errno.Ok;
            }

            if (state == (uint)TaskState.Blocked && self.IsWorker && RequeueMarkedWait(self))
            {
                continue;
            }

            if (state == (uint)TaskState.None && self.Orphaned)
            {
                return Errno.ESRCH;
            }

            if (state != (uint)TaskState.Runnable)
            {
                return Errno.EINVAL;
            }

            // The server's departure and our RUNNABLE are both full fences (Dekker): either it saw us
            // RUNNABLE and orphans us (the word changes, so the park below returns), or we see it gone here.
            if (server is not null && server.Gone && !FollowMovedServer(self, ref server))
            {
                Orphan(self);
                continue;
            }

            if (Parker.Park(word, seen, deadlineNs, self.Clock) == Parking.ParkResult.TimedOut)
            {
                // A wake may have raced the timeout: running wins.
                return (Volatile.Read(ref *word) & UmcgConstants.StateMask) == (uint)TaskState.Running ? Errno.Ok : Errno.ETIMEDOUT;
            }
        }
    }

    /// <summary>The server a waiting worker waited for is gone: true if its server_tid names another live server now (it moved), which it then waits for.</summary>
    private bool FollowMovedServer(KernelTask worker, ref KernelTask server)
    {
        if (ResolveServer(worker, out var current) == Errno.Ok && !current.Gone)
        {
            server = current;
            return true;
        }

        return false;
    }

    /// <summary>
    /// A waiting worker's server went away before running it: RUNNABLE → NONE, so that its sleep ends (the
    /// word changes before the wake, as the futex contract needs) with ESRCH instead of lasting for ever.
    /// </summary>
    private void Orphan(KernelTask worker)
    {
        worker.MarkOrphaned();
        if (UpdateState(worker, TaskState.Runnable, TaskState.None) == Errno.Ok)
        {
            Parker.Unpark(worker.StateWord);
        }
    }

    /// <summary>
    /// A server leaves (unregisters, or its thread exited): every worker that waits for it to run it — RUNNABLE,
    /// naming it — is orphaned and fails with ESRCH instead of sleeping for ever. Call after the server is gone.
    /// </summary>
    private void OrphanWorkersOf(KernelTask server)
    {
        using var section = BlockGrace.Enter();
        foreach (var task in _tasks.Snapshot())
        {
            if (task.IsWorker
                && Volatile.Read(ref task.Block->ServerTid) == (uint)server.Tid
                && (Volatile.Read(ref *task.StateWord) & (UmcgConstants.StateMask | UmcgConstants.FlagsMask)) == (uint)TaskState.Runnable)
            {
                Orphan(task);
            }
        }
    }

    /// <summary>
    /// A worker waits to be run by <paramref name="server"/> (it is queued, or switched away from): sleep until
    /// RUNNING, then follow the server's CPU. A worker whose sleep fails is removed: its server went away
    /// (ESRCH) or its state word was scribbled while it waited (EINVAL).
    /// </summary>
    private Errno AwaitRun(KernelTask worker, KernelTask server)
    {
        var r = SleepUntilRunning(worker, 0, server);
        if (r == Errno.Ok)
        {
            FollowServerCpu(worker);
            return r;
        }

        return worker.Orphaned
            ? Kill(worker, Errno.ESRCH, "its server went away before running it")
            : Kill(worker, r, "its state was scribbled while it waited to run");
    }

    /// <summary>
    /// A worker found itself BLOCKED inside its own wait: a waker had made it RUNNING, and before its thread
    /// got back from the park a detector, seeing a RUNNING worker asleep in the kernel, blocked it on its
    /// behalf (<see cref="MarkBlocked"/>). The mark freed the server's slot and woke the server, so nobody
    /// runs this worker any more; a real kernel would not have let it happen, because its hook sees the sleep
    /// is the wait itself. Finish what the mark began, as the unblock path would: BLOCKED → RUNNABLE, queued,
    /// server woken, and go on sleeping until a server runs it again.
    /// </summary>
    /// <returns>False if the BLOCKED was not the kernel half's (user code wrote it), the worker's server is gone, or (true) its state moved on meanwhile (the caller re-reads it).</returns>
    private bool RequeueMarkedWait(KernelTask worker)
    {
        using var section = BlockGrace.Enter();
        if (ResolveServer(worker, out var server) != Errno.Ok || !TakeBlockMark(worker))
        {
            return false;
        }

        if (UpdateState(worker, TaskState.Blocked, TaskState.Runnable) != Errno.Ok)
        {
            return true; // moved on (e.g. RUNNING already): look again
        }

        PushRunnable(worker, server);
        WakeServer(server);
        return true;
    }

    /// <summary>
    /// A BLOCKED worker is about to unblock: true if the kernel half blocked it (its mark is taken), false if
    /// the BLOCKED in its state word was written by user code. A detector that is still between claiming the
    /// mark and its own state CAS, and whose CAS then fails, finds its mark gone and finishes the block as
    /// if it had made it (see <see cref="BlockWorker"/>), so the server is released either way.
    /// </summary>
    private static bool TakeBlockMark(KernelTask worker)
    {
        int mark = Volatile.Read(ref worker.BlockMark);
        return mark != KernelTask.BlockMarks.None
            && Interlocked.CompareExchange(ref worker.BlockMark, KernelTask.BlockMarks.None, mark) == mark;
    }

    /// <summary>
    /// Before a worker is woken to run for <paramref name="server"/>: if it last ran on another CPU (it moved servers: a
    /// steal, a hand-over, a new body), it is moved to the server's CPU now, as a kernel's wake would place it. Woken
    /// on its old CPU it would first wait there behind that CPU's running worker — a whole OS slice under EEVDF — while
    /// its own server's CPU idles. The worker's own <see cref="FollowServerCpu"/> then finds nothing to do.
    /// </summary>
    private static void MoveToServerCpu(KernelTask worker, KernelTask server)
    {
        int cpu = server.Cpu;
        if (cpu < 0 || Volatile.Read(ref worker.CpuField) == cpu || !OperatingSystem.IsLinux())
        {
            return;
        }

        // The worker sleeps (RUNNABLE) and no other waker runs for it: its record names it, so this is the one start.
        worker.AffinityBeforePinning ??= LinuxSyscalls.GetAffinity(worker.Tid);
        if (LinuxSyscalls.PinToCpu(worker.Tid, cpu) == 0)
        {
            Volatile.Write(ref worker.CpuField, cpu);
        }
    }

    /// <summary>
    /// The worker now runs for its server: keep it on the server's CPU, as the kernel's WF_CURRENT_CPU wake
    /// would. A syscall only when the server's CPU differs from the one the worker last pinned itself to.
    /// The affinity it had before the first pin is kept, and given back when it leaves (<see cref="Forget"/>).
    /// </summary>
    private void FollowServerCpu(KernelTask worker)
    {
        if (!OperatingSystem.IsLinux() || ResolveServer(worker, out var server) != Errno.Ok)
        {
            return;
        }

        int cpu = server.Cpu;
        if (cpu >= 0 && worker.Cpu != cpu)
        {
            worker.AffinityBeforePinning ??= LinuxSyscalls.GetAffinity(0);
            if (LinuxSyscalls.PinToCpu(0, cpu) == 0)
            {
                worker.Cpu = cpu;
            }
        }
    }

    /// <summary>A running or blocked worker stops running for good: release the server it runs for and wake it.</summary>
    private void ReleaseAndWakeServer(KernelTask worker)
    {
        using var section = BlockGrace.Enter();
        if (ResolveServer(worker, out var server) == Errno.Ok && ReleaseSlot(worker, server))
        {
            WakeServer(server);
            return;
        }

        // server_tid no longer names the server it runs for (user space scribbled it, which is usually why
        // the worker is being removed): that server is still asleep waiting for it to stop running.
        ReleaseSlotWherever(worker);
    }

    /// <summary>
    /// Finds the server whose record names <paramref name="worker"/> through the table, releases it and wakes
    /// the server, so that it is not left sleeping on a worker that will never give it back. Records name TIDs,
    /// unique among live tasks, so this can only clear a record that really is this worker's. O(tasks): for
    /// removals only.
    /// </summary>
    private void ReleaseSlotWherever(KernelTask worker)
    {
        using var section = BlockGrace.Enter();
        foreach (var candidate in _tasks.Snapshot())
        {
            if (!candidate.IsWorker && ReleaseSlot(worker, candidate))
            {
                WakeServer(candidate);
                return;
            }
        }
    }

    /// <summary>
    /// Removes a task from the table; its block is no longer referenced by the kernel half once every path
    /// that found it has returned (see <see cref="TaskBlock"/>). A worker leaving on its own thread gets back
    /// the CPU affinity it had before it followed a server's CPU; a server's waiting workers are orphaned.
    /// </summary>
    /// <returns>Whether this call forgot it (false: another path already had).</returns>
    private bool Forget(KernelTask task)
    {
        // Exactly once: the exit watcher and a direct ReapExited may both get here for the same dead task, and
        // a second RemoveRegistration would let the block be freed while a later registration still uses it.
        if (!task.MarkGone())
        {
            return false;
        }

        _tasks.Remove(task);
        task.Owner.RemoveRegistration();
        if (ReferenceEquals(t_current, task))
        {
            t_current = null;
            if (task.AffinityBeforePinning is { Length: > 0 } affinity && OperatingSystem.IsLinux())
            {
                LinuxSyscalls.SetAffinity(0, affinity);
            }
        }

        if (!task.IsWorker)
        {
            OrphanWorkersOf(task);
        }

        return true;
    }

    /// <summary>
    /// A RUNNING worker whose server's record does not name it: user space changed server_tid while it ran.
    /// Removed (EINVAL), and the server it did run for is released and woken (<see cref="ReleaseSlotWherever"/>),
    /// so that server's other workers go on. Nothing was queued for it.
    /// </summary>
    private Errno KillMovedWorker(KernelTask worker) =>
        Kill(worker, Errno.EINVAL, "its server_tid was changed while it ran; the server it ran for is released");

    /// <summary>
    /// A protocol violation that a kernel would answer with SIGKILL: the task is unregistered, the server it
    /// ran for (found through the records, whatever server_tid says) is freed to run others, and the reason
    /// is kept for the exception the scheduling layer raises.
    /// </summary>
    private Errno Kill(KernelTask task, Errno error, string reason)
    {
        using var section = BlockGrace.Enter();
        task.KillReason = reason;
        LastKillReason = $"UMCG task {task.Tid} was removed: {reason} ({error}).";
        if (task.IsWorker)
        {
            ReleaseAndWakeServer(task);
        }

        Forget(task);
        return error;
    }
}
