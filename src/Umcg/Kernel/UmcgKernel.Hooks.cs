using Umcg.Abi;

namespace Umcg.Kernel;

// The hooks a patched kernel runs by itself: entering and leaving a blocking region (sys_enter/schedule
// and sys_exit) and return-to-user (notify_resume), which here is an explicit safepoint.
public sealed unsafe partial class UmcgKernel
{
    /// <summary>
    /// The calling worker enters a blocking region: RUNNING → BLOCKED (blocked_ts stamped), its server's slot
    /// is freed and the server woken to run another worker. A non-worker caller gets EINVAL and nothing changes.
    /// </summary>
    /// <returns>Ok (also when already BLOCKED, e.g. marked by a detector); EINVAL; ESRCH if the worker's server is gone (the worker is removed).</returns>
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
    /// server's runnable list, the server woken; returns once a server runs it again.
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
    /// <see cref="TaskFlags.Preempt"/>: the worker goes RUNNABLE, is queued, wakes its server (never next_tid)
    /// and waits to be run again. BLOCKED (a detector blocked it on its behalf): the unblock path. Any other
    /// RUNNABLE: waits for RUNNING.
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

        if ((state & UmcgConstants.StateMask) == (uint)TaskState.Blocked)
        {
            return Unblock(self);
        }

        if ((state & (uint)TaskFlags.Preempt) != 0 && (state & UmcgConstants.StateMask) == (uint)TaskState.Running)
        {
            return Preempt(self);
        }

        var r = SleepUntilRunning(self, 0);
        if (r == Errno.Ok)
        {
            FollowServerCpu(self);
        }

        return r;
    }

    /// <summary>
    /// A running worker is known to be blocked: on its own word (<see cref="SysEnter"/>) or on its behalf
    /// (<see cref="MarkBlocked"/>, by a detector).
    /// </summary>
    private Errno BlockWorker(KernelTask worker, bool onBehalf)
    {
        if (ResolveServer(worker, out var server) != Errno.Ok)
        {
            return onBehalf ? Errno.ESRCH : Kill(worker, Errno.ESRCH, "its server_tid does not name a registered server");
        }

        var r = UpdateState(worker, TaskState.Running, TaskState.Blocked);
        if (r != Errno.Ok)
        {
            // Already BLOCKED (a detector got there first) is fine; anything else is not ours to block.
            return worker.State == TaskState.Blocked ? Errno.Ok : r;
        }

        // State first, slot second: a server woken by anything else in between still sees the slot naming a
        // worker that is no longer RUNNING, and sleeps until this release wakes it.
        if (!ReleaseSlot(worker, server))
        {
            // We moved it from RUNNING, so some server's slot names it: not the one server_tid names now.
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
        if (!_tasks.TryGet((uint)tid, out var worker) || !worker.IsWorker)
        {
            return Errno.ESRCH;
        }

        return BlockWorker(worker, onBehalf: true);
    }

    private Errno Unblock(KernelTask worker)
    {
        if (ResolveServer(worker, out var server) != Errno.Ok)
        {
            return Kill(worker, Errno.ESRCH, "its server_tid does not name a registered server");
        }

        if (UpdateState(worker, TaskState.Blocked, TaskState.Runnable) != Errno.Ok)
        {
            return Kill(worker, Errno.EINVAL, $"unblocked in state {worker.State}, not BLOCKED");
        }

        Enqueue(worker, server);
        WakeServer(server);
        var r = SleepUntilRunning(worker, 0);
        if (r == Errno.Ok)
        {
            FollowServerCpu(worker);
            return r;
        }

        return Kill(worker, r, "its state was scribbled while it waited to run");
    }

    private Errno Preempt(KernelTask worker)
    {
        if (ResolveServer(worker, out var server) != Errno.Ok)
        {
            return Kill(worker, Errno.ESRCH, "its server_tid does not name a registered server");
        }

        if (UpdateState(worker, TaskState.Running, TaskState.Runnable) != Errno.Ok)
        {
            return Errno.Ok; // No longer RUNNING: a concurrent transition already took it off the CPU.
        }

        Enqueue(worker, server);
        if (!ReleaseSlot(worker, server))
        {
            return KillMovedWorker(worker); // our queue entry is skipped: the drain finds no such task
        }

        WakeServer(server);
        var r = SleepUntilRunning(worker, 0);
        if (r == Errno.Ok)
        {
            FollowServerCpu(worker);
            return r;
        }

        return Kill(worker, r, "its state was scribbled while it waited to run");
    }
}
