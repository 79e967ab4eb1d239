using Umcg.Abi;
using Umcg.Kernel.Native;

namespace Umcg.Kernel;

// Ctl: register and unregister the calling thread.
public sealed unsafe partial class UmcgKernel
{
    private const CtlFlags KnownCtlFlags = CtlFlags.Register | CtlFlags.Unregister | CtlFlags.Worker;

    /// <summary>Registers or unregisters the calling thread as a UMCG server or worker.</summary>
    /// <param name="flags"><see cref="CtlFlags.Register"/> or <see cref="CtlFlags.Unregister"/>, with <see cref="CtlFlags.Worker"/> for a worker.</param>
    /// <param name="self">The task's control block (see <see cref="TaskBlock"/>); 64-byte aligned.</param>
    /// <param name="clock">The clock for timestamps and timeouts: REALTIME, MONOTONIC, BOOTTIME or TAI.</param>
    /// <returns>
    /// <list type="bullet">
    /// <item>Ok. A server returns at once; a worker returns only once a server has run it (it goes BLOCKED →
    /// RUNNABLE, is queued on its server's runnable list, wakes the server, and waits for RUNNING).</item>
    /// <item>EINVAL: misaligned or null block, unknown flags, unknown clock, registering twice, reserved
    /// fields or next_tid not zero, wrong initial state (a server must be RUNNING, a worker BLOCKED);
    /// unregistering with a block that is not the caller's.</item>
    /// <item>EFAULT: the block is not a live <see cref="TaskBlock"/>.</item>
    /// <item>ESRCH: a worker's server_tid is not a registered server, or a server's is not its own TID.</item>
    /// <item>EAGAIN: unregistering while not RUNNING. EBUSY: a server unregistering while its slot names a worker with TID_RUNNING (it runs, or is between
    /// a block and its slot release, or is the target of a direct switch in flight).</item>
    /// <item>A worker that unregisters hands the CPU to its next_tid if that names a RUNNABLE worker of the same
    /// server; any other next_tid is ignored and the server is woken instead (unregister never fails on it).</item>
    /// </list>
    /// </returns>
    public Errno Ctl(CtlFlags flags, UmcgTask* self, ClockId clock)
    {
        if ((nuint)self % UmcgConstants.TaskAlign != 0)
        {
            return Errno.EINVAL;
        }

        if ((flags & ~KnownCtlFlags) != 0)
        {
            return Errno.EINVAL;
        }

        if ((flags & CtlFlags.Unregister) != 0)
        {
            return (flags & CtlFlags.Register) != 0 ? Errno.EINVAL : Unregister(flags, self);
        }

        if ((flags & CtlFlags.Register) == 0)
        {
            return Errno.EINVAL;
        }

        if (!KernelClock.IsSupported(clock))
        {
            return Errno.EINVAL;
        }

        // Registered here or with another kernel half: a thread is one task at a time.
        if (t_current is not null || self == null)
        {
            return Errno.EINVAL;
        }

        // The block is read below: inside a read section, so that a Dispose racing this call cannot free it
        // under us (a disposed block is refused by TryClaim).
        using (BlockGrace.Enter())
        {
            var r = Validate(flags, self, clock, out var task);
            if (r != Errno.Ok)
            {
                return r;
            }

            t_current = task;
            _exitWatcher.Watch();
            LastKillReason = null;
            if (!task.IsWorker)
            {
                // A server pinned to a single CPU lends it to the workers it runs (see FollowServerCpu).
                if (OperatingSystem.IsLinux() && LinuxSyscalls.GetAffinity(0) is [int only])
                {
                    task.Cpu = only;
                }

                return Errno.Ok;
            }
        }

        // A new worker is a worker that just stopped blocking: the same path as leaving a blocking region.
        return Unblock(Current!, registering: true);
    }

    /// <summary>Checks a registration and, if it is valid, claims the block and publishes the task.</summary>
    private Errno Validate(CtlFlags flags, UmcgTask* self, ClockId clock, out KernelTask task)
    {
        task = null!;
        if (!TaskBlock.TryResolve(self, out var owner) || owner is null || owner.IsDisposed)
        {
            return Errno.EFAULT;
        }

        if (owner.IsRegistered)
        {
            return Errno.EINVAL;
        }

        UmcgTask snapshot = *self;
        if (snapshot.NextTid != 0 || snapshot.Hole != 0 || snapshot.Zero0 != 0 || snapshot.Zero1 != 0 || snapshot.Zero2 != 0)
        {
            return Errno.EINVAL;
        }

        bool worker = (flags & CtlFlags.Worker) != 0;
        int tid = CurrentTid;
        if (worker)
        {
            if (!_tasks.TryGet(snapshot.ServerTid, out var server) || server.IsWorker)
            {
                return Errno.ESRCH;
            }
        }
        else if (snapshot.ServerTid != (uint)tid)
        {
            return Errno.ESRCH;
        }

        uint initial = snapshot.State & (UmcgConstants.StateMask | UmcgConstants.FlagsMask);
        if (initial != (uint)(worker ? TaskState.Blocked : TaskState.Running))
        {
            return Errno.EINVAL;
        }

        // Claim the block before publishing the task: the IsRegistered check above is only a fast path, and
        // two threads (with this or another kernel half) may get here for the same block at once.
        if (!owner.TryClaim())
        {
            return Errno.EINVAL;
        }

        task = new KernelTask(this, tid, owner, clock, worker, Thread.CurrentThread);
        if (!_tasks.TryAdd(task))
        {
            owner.RemoveRegistration();
            return Errno.EINVAL;
        }

        return Errno.Ok;
    }

    private Errno Unregister(CtlFlags flags, UmcgTask* self)
    {
        var task = Current;
        if (task is null || self == null || self != task.Block)
        {
            return Errno.EINVAL;
        }

        if ((flags & CtlFlags.Worker) != 0 && !task.IsWorker)
        {
            return Errno.EINVAL;
        }

        if (!task.IsWorker)
        {
            var left = UnregisterServer(task);
            if (left == Errno.Ok)
            {
                DropListOf(task);
            }

            return left;
        }

        using var section = BlockGrace.Enter();
        var result = UpdateState(task, TaskState.Running, TaskState.None, out uint replaced);
        if (result != Errno.Ok)
        {
            return result;
        }

        if (LeftBackground(replaced))
        {
            // K7 from the background: no record to hand on, nobody to wake.
            Forget(task);
            return Errno.Ok;
        }

        if (ResolveServer(task, out var server) != Errno.Ok)
        {
            // server_tid names no server (scribbled): nobody to hand the CPU to, but the worker may still leave
            // — and the server it ran for, which the records know, must not sleep on it for ever.
            ReleaseSlotWherever(task);
            Forget(task);
            return Errno.Ok;
        }

        // Hand the CPU on: to next_tid if it names a RUNNABLE worker of the same server (as in Wait), else back
        // to the server. A worker of another server must not take this server's record: it would run for a
        // server it does not belong to, and this server would sleep on a record nobody releases.
        if (ResolveSuccessor(task, server, out var next) == Errno.Ok
            && next is not null
            && next.State == TaskState.Runnable
            && MoveSlot(task, server, next))
        {
            bool lower = RanksBelow(next, task);
            StartSwitchedTo(next, server);
            WakeServerIfOthersListed(server, left: task, leftIsListed: false, successorRanksBelow: lower);
        }
        else if (ReleaseSlot(task, server))
        {
            WakeServer(server);
        }
        else
        {
            // A RUNNING worker not in the record of the server server_tid names: changed while it ran. It leaves
            // anyway (that is what it asked for); the server it did run for must not sleep on it.
            ReleaseSlotWherever(task);
        }

        Forget(task);
        return Errno.Ok;
    }

    private Errno UnregisterServer(KernelTask task)
    {
        using var section = BlockGrace.Enter();

        // A worker the record names still holds this server, whatever its state reads now: between a
        // block's RUNNING → BLOCKED and its release, and between a direct switch's move and the target's
        // RUNNING, that worker will still write this server's record and slot, which must outlive it.
        if (task.Slot.Kind != ServerSlot.SlotKind.Empty)
        {
            return Errno.EBUSY;
        }

        var r = UpdateState(task, TaskState.Running, TaskState.None);
        if (r == Errno.Ok)
        {
            Forget(task);
        }

        return r;
    }

    /// <summary>
    /// A server that left takes its own runnable list down, as its last drain: the queued marks are cleared,
    /// blocks disposed while listed are freed, entries of workers that moved to another server are forwarded.
    /// Its waiting workers were orphaned when it left (<see cref="Forget"/>). Outside a read section.
    /// </summary>
    private void DropListOf(KernelTask server)
    {
        List<TaskBlock>? disposed = null;
        using (BlockGrace.Enter())
        {
            // The block is the caller's, but another thread may dispose it now that it is unregistered: checked
            // inside the section, which such a Dispose waits for before it frees anything.
            if (server.Owner.IsDisposed)
            {
                return;
            }

            RunnableList.Walk(this, server.Block, [], ref disposed);
        }

        RunnableList.FreeDisposed(disposed);
    }
}
