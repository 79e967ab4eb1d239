using Umcg.Abi;
using Umcg.Kernel.Native;

namespace Umcg.Kernel;

// The building blocks every call is made of: a state transition, a wake, an enqueue on a runnable list,
// and the server's running slot (its next_tid with TID_RUNNING).
public sealed unsafe partial class UmcgKernel
{
    private const uint TidRunning = UmcgConstants.TidRunning;

    /// <summary>
    /// CAS the task's state from <paramref name="from"/> to <paramref name="to"/>, keeping the user bits and
    /// clearing TF_PREEMPT and TF_COND_WAIT; stamps blocked_ts/runnable_ts. EAGAIN if the state is not
    /// <paramref name="from"/>.
    /// </summary>
    private static Errno UpdateState(KernelTask task, TaskState from, TaskState to)
    {
        // Read the clock before the CAS, as the kernel does: the stamp is "no later than" the transition. With an
        // observer every transition is stamped so: one made because of an earlier one is never stamped before it.
        var observer = task.Kernel.Observer;
        long now = to >= TaskState.Runnable || observer is not null ? KernelClock.Now(task.Clock) : 0;
        uint* word = task.StateWord;
        uint old = Volatile.Read(ref *word);
        while (true)
        {
            if ((old & UmcgConstants.StateMask) != (uint)from)
            {
                return Errno.EAGAIN;
            }

            uint updated = (old & ~(UmcgConstants.StateMask | (uint)TaskFlags.Preempt | (uint)TaskFlags.CondWait)) | (uint)to;

            // Full fence: a waker's CAS here orders everything it wrote before (a server's slot, a list
            // push) ahead of the sleeper's re-read of its state.
            uint seen = Interlocked.CompareExchange(ref *word, updated, old);
            if (seen == old)
            {
                break;
            }

            old = seen;
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

    /// <summary>Resolves the server a worker names, through the task table. ESRCH unless it is a registered server.</summary>
    private Errno ResolveServer(KernelTask worker, out KernelTask server)
    {
        uint serverTid = Volatile.Read(ref worker.Block->ServerTid);
        if (_tasks.TryGet(serverTid, out server) && !server.IsWorker && server.Tid == (int)(serverTid & UmcgConstants.TidMask))
        {
            return Errno.Ok;
        }

        server = null!;
        return Errno.ESRCH;
    }

    /// <summary>
    /// Pushes the worker's block on the server's runnable list: a lock-free LIFO whose head is the server's
    /// runnable_workers_ptr and whose links are the workers' own runnable_workers_ptr.
    /// </summary>
    /// <remarks>
    /// The worker must already be RUNNABLE (user space removes an entry from the list before it changes the
    /// entry's state). The kernel half never dereferences the old head: it only stores it as our link.
    /// A worker whose entry is still on the list (it was switched to directly, so no drain took it off) is
    /// not pushed again: the entry is there, and the drain that takes it finds the worker RUNNABLE.
    /// </remarks>
    private static void Enqueue(KernelTask worker, KernelTask server)
    {
        // Full fence: the state change to RUNNABLE before this is visible to a drain that clears the flag
        // after we saw it set, so that drain's server sees the worker RUNNABLE.
        if (Interlocked.Exchange(ref worker.Queued, 1) != 0)
        {
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
    /// The worker stops running for its server: clear the server's slot if it names this worker. Returns
    /// whether it did (false: the slot names another task, e.g. user space moved the worker).
    /// </summary>
    private static bool ReleaseSlot(KernelTask worker, KernelTask server)
    {
        uint mine = (uint)worker.Tid | TidRunning;

        // CAS, not a store: only the task the slot names may clear it, so a late release by a worker that
        // was already replaced cannot wipe out the server's knowledge of its new worker.
        return Interlocked.CompareExchange(ref *server.NextTidWord, 0, mine) == mine;
    }

    /// <summary>
    /// The direct worker→worker handoff, step one: the server's slot moves from <paramref name="worker"/> to
    /// <paramref name="next"/>. False if the slot does not name <paramref name="worker"/> as running.
    /// </summary>
    /// <remarks>
    /// Slot first, wake second (<see cref="StartSwitchedTo"/>): once next runs it may block at once and
    /// release the slot, and it can only release a slot that already names it. While the slot names next,
    /// nobody else wakes it: its server does not pick while the slot holds TID_RUNNING.
    /// </remarks>
    private static bool MoveSlot(KernelTask worker, KernelTask server, KernelTask next)
    {
        uint mine = (uint)worker.Tid | TidRunning;
        uint theirs = (uint)next.Tid | TidRunning;
        return Interlocked.CompareExchange(ref *server.NextTidWord, theirs, mine) == mine;
    }

    /// <summary>
    /// Step two: wake <paramref name="next"/>, which holds the slot now. If it is no longer RUNNABLE (its
    /// block was scribbled), the slot goes back to the server, which is woken to run someone else.
    /// </summary>
    private void StartSwitchedTo(KernelTask next, KernelTask server)
    {
        if (WakeTask(next) != Errno.Ok && ReleaseSlot(next, server))
        {
            WakeServer(server);
        }
    }

    /// <summary>Sleeps until the caller's state is RUNNING. EINVAL if it becomes neither RUNNABLE nor RUNNING.</summary>
    private Errno SleepUntilRunning(KernelTask self, long deadlineNs)
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

            if (state != (uint)TaskState.Runnable)
            {
                return Errno.EINVAL;
            }

            if (Parker.Park(word, seen, deadlineNs, self.Clock) == Parking.ParkResult.TimedOut)
            {
                // A wake may have raced the timeout: running wins.
                return (Volatile.Read(ref *word) & UmcgConstants.StateMask) == (uint)TaskState.Running ? Errno.Ok : Errno.ETIMEDOUT;
            }
        }
    }

    /// <summary>
    /// A worker found itself BLOCKED inside its own wait: a waker had made it RUNNING, and before its thread
    /// got back from the park a detector, seeing a RUNNING worker asleep in the kernel, blocked it on its
    /// behalf (<see cref="MarkBlocked"/>). The mark freed the server's slot and woke the server, so nobody
    /// runs this worker any more; a real kernel would not have let it happen, because its hook sees the sleep
    /// is the wait itself. Finish what the mark began, as the unblock path would: BLOCKED → RUNNABLE, queued,
    /// server woken, and go on sleeping until a server runs it again.
    /// </summary>
    /// <returns>False if the worker's server is gone or its state moved on meanwhile (the caller re-reads it).</returns>
    private bool RequeueMarkedWait(KernelTask worker)
    {
        if (ResolveServer(worker, out var server) != Errno.Ok)
        {
            return false;
        }

        if (UpdateState(worker, TaskState.Blocked, TaskState.Runnable) != Errno.Ok)
        {
            return true; // moved on (e.g. RUNNING already): look again
        }

        Enqueue(worker, server);
        WakeServer(server);
        return true;
    }

    /// <summary>
    /// The worker now runs for its server: keep it on the server's CPU, as the kernel's WF_CURRENT_CPU wake
    /// would. A syscall only when the server's CPU differs from the one the worker last pinned itself to.
    /// </summary>
    private void FollowServerCpu(KernelTask worker)
    {
        if (!OperatingSystem.IsLinux() || ResolveServer(worker, out var server) != Errno.Ok)
        {
            return;
        }

        int cpu = server.Cpu;
        if (cpu >= 0 && worker.Cpu != cpu && LinuxSyscalls.PinToCpu(0, cpu) == 0)
        {
            worker.Cpu = cpu;
        }
    }

    /// <summary>A running or blocked worker stops running for good: release its server's slot and wake the server.</summary>
    private void ReleaseAndWakeServer(KernelTask worker)
    {
        if (ResolveServer(worker, out var server) == Errno.Ok)
        {
            if (ReleaseSlot(worker, server))
            {
                WakeServer(server);
            }

            return;
        }

        // server_tid no longer names a server (user space scribbled it, which is why the worker is being
        // removed): the server whose slot names this worker is still asleep waiting for it to stop running.
        ReleaseSlotWherever(worker);
    }

    /// <summary>
    /// Finds the server whose slot names <paramref name="worker"/> through the table, releases it and wakes the
    /// server, so that it is not left sleeping on a slot nobody will release. Slots name TIDs, unique among live
    /// tasks, so the CAS can only clear a slot that really is this worker's. O(tasks): for removals only.
    /// </summary>
    private void ReleaseSlotWherever(KernelTask worker)
    {
        foreach (var candidate in _tasks.Snapshot())
        {
            if (!candidate.IsWorker && ReleaseSlot(worker, candidate))
            {
                WakeServer(candidate);
                return;
            }
        }
    }

    /// <summary>Removes a task from the table; its block is no longer referenced by the kernel half.</summary>
    private void Forget(KernelTask task)
    {
        // Exactly once: the exit watcher and a direct ReapExited may both get here for the same dead task, and
        // a second RemoveRegistration would let the block be freed while a later registration still uses it.
        if (!task.MarkGone())
        {
            return;
        }

        _tasks.Remove(task);
        task.Owner.RemoveRegistration();
        if (ReferenceEquals(t_current, task))
        {
            t_current = null;
        }
    }

    /// <summary>
    /// A protocol violation that a kernel would answer with SIGKILL: the task is unregistered, its server is
    /// freed to run others, and the reason is kept for the exception the scheduling layer raises.
    /// </summary>
    /// <summary>
    /// A RUNNING worker whose slot is not in the server its server_tid names: user space changed server_tid
    /// while it ran. Removed (EINVAL), and the server it did run for is released and woken
    /// (<see cref="ReleaseSlotWherever"/>), so that server's other workers go on.
    /// </summary>
    private Errno KillMovedWorker(KernelTask worker)
    {
        ReleaseSlotWherever(worker);
        return Kill(worker, Errno.EINVAL, "its server_tid was changed while it ran; the server it ran for is released");
    }

    private Errno Kill(KernelTask task, Errno error, string reason)
    {
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
