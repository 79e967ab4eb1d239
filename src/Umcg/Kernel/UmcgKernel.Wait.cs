using Umcg.Abi;

namespace Umcg.Kernel;

// Wait: give up the CPU (to next_tid, or the server) and sleep until RUNNING.
public sealed unsafe partial class UmcgKernel
{
    /// <summary>
    /// The caller, already RUNNABLE (set by itself, with <see cref="TaskFlags.CondWait"/> to close the race with
    /// a wake), gives up the CPU and sleeps until its state is RUNNING.
    /// </summary>
    /// <param name="flags">Must be 0.</param>
    /// <param name="absTimeoutNs">A server's absolute deadline on its registered clock, in nanoseconds; 0 for none.</param>
    /// <returns>
    /// <list type="bullet">
    /// <item>Ok once RUNNING. A worker has been queued on its server's runnable list and has woken its
    /// next_tid (a direct worker→worker switch; next_tid is consumed) or else its server. A server has woken
    /// the worker its next_tid names and marked it <see cref="UmcgConstants.TidRunning"/>.</item>
    /// <item>EINVAL: not registered, flags, a worker naming itself or a worker of another server as next, or
    /// a worker whose server does not consider it running. ERANGE: a worker with a timeout.</item>
    /// <item>EAGAIN: the caller was not RUNNABLE (a wake came first), or next_tid was not RUNNABLE.</item>
    /// <item>ESRCH: next_tid or the worker's server_tid is not a task of this kernel half.</item>
    /// <item>ETIMEDOUT: a server's deadline passed; it is RUNNING again.</item>
    /// </list>
    /// On every error the caller is RUNNING again, nothing was queued and nobody was woken.
    /// </returns>
    public Errno Wait(uint flags, long absTimeoutNs)
    {
        var self = Current;
        if (self is null)
        {
            return Errno.EINVAL;
        }

        if (flags != 0)
        {
            return Refuse(self, Errno.EINVAL);
        }

        return self.IsWorker ? WorkerWait(self, absTimeoutNs) : ServerWait(self, absTimeoutNs);
    }

    private Errno WorkerWait(KernelTask self, long absTimeoutNs)
    {
        if (absTimeoutNs != 0)
        {
            return Refuse(self, Errno.ERANGE);
        }

        var r = ResolveServer(self, out var server);
        if (r != Errno.Ok)
        {
            return Refuse(self, r);
        }

        // Resolve next before any side effect, so that an error leaves everything as it was.
        uint nextTid = Volatile.Read(ref *self.NextTidWord) & UmcgConstants.TidMask;
        KernelTask? next = null;
        if (nextTid != 0)
        {
            if (!_tasks.TryGet(nextTid, out next))
            {
                return Refuse(self, Errno.ESRCH);
            }

            if (next == self || !next.IsWorker || Volatile.Read(ref next.Block->ServerTid) != (uint)server.Tid)
            {
                return Refuse(self, Errno.EINVAL);
            }
        }

        // Checks RUNNABLE and clears TF_COND_WAIT in one step.
        r = UpdateState(self, TaskState.Runnable, TaskState.Runnable);
        if (r != Errno.Ok)
        {
            return r;
        }

        if (next is not null)
        {
            // The RFC's order: queue ourselves before next can run. Once next runs it may give the CPU back at
            // once, and the server's drain must then already find us on the list.
            if (next.State != TaskState.Runnable)
            {
                UpdateState(self, TaskState.Runnable, TaskState.Running);
                return Errno.EAGAIN;
            }

            if (!MoveSlot(self, server, next))
            {
                UpdateState(self, TaskState.Runnable, TaskState.Running);
                return Errno.EINVAL;
            }

            // Consumed: user space sees that the switch happened.
            Volatile.Write(ref *self.NextTidWord, 0);
            Enqueue(self, server);
            StartSwitchedTo(next, server);
        }
        else
        {
            // Queue first, then free the slot, then wake: the server that wakes finds the slot empty and us
            // on its list (a yield with nothing else runnable runs us again).
            Enqueue(self, server);
            if (!ReleaseSlot(self, server))
            {
                return KillMovedWorker(self); // our queue entry is skipped: the drain finds no such task
            }

            WakeServer(server);
        }

        r = SleepUntilRunning(self, 0);
        if (r == Errno.Ok)
        {
            FollowServerCpu(self);
        }

        return r;
    }

    private Errno ServerWait(KernelTask self, long absTimeoutNs)
    {
        var r = UpdateState(self, TaskState.Runnable, TaskState.Runnable);
        if (r != Errno.Ok)
        {
            return r;
        }

        uint slot = Volatile.Read(ref *self.NextTidWord);
        if (slot != 0 && (slot & TidRunning) == 0)
        {
            r = StartWorker(self, slot);
            if (r != Errno.Ok)
            {
                UpdateState(self, TaskState.Runnable, TaskState.Running);
                return r;
            }
        }

        // With TID_RUNNING already set the worker runs (or is on its way out and will wake us): just sleep.
        r = SleepUntilRunning(self, absTimeoutNs);
        if (r == Errno.ETIMEDOUT && UpdateState(self, TaskState.Runnable, TaskState.Running) != Errno.Ok)
        {
            // A wake won the race with the deadline: we are RUNNING because somebody woke us.
            return Errno.Ok;
        }

        return r;
    }

    /// <summary>
    /// An error found before any side effect: a caller that had set RUNNABLE (with or without TF_COND_WAIT) is
    /// RUNNING again, as the contract of <see cref="Wait"/> promises for every error; nothing else changes.
    /// </summary>
    private static Errno Refuse(KernelTask self, Errno error)
    {
        // EAGAIN from here just means the caller was not RUNNABLE (still RUNNING, or BLOCKED): leave it so.
        UpdateState(self, TaskState.Runnable, TaskState.Running);
        return error;
    }

    /// <summary>The server runs the worker its next_tid names: mark the slot, then wake the worker.</summary>
    private Errno StartWorker(KernelTask server, uint slot)
    {
        if (!_tasks.TryGet(slot, out var worker))
        {
            return Errno.ESRCH;
        }

        if (!worker.IsWorker || Volatile.Read(ref worker.Block->ServerTid) != (uint)server.Tid)
        {
            return Errno.EINVAL;
        }

        // Mark before waking: the worker may run and block at once, and releases only a slot naming it.
        // No other thread writes this slot now: it holds no TID_RUNNING, so no worker runs for this server.
        Volatile.Write(ref *server.NextTidWord, slot | TidRunning);
        var r = WakeTask(worker);
        if (r != Errno.Ok)
        {
            Volatile.Write(ref *server.NextTidWord, slot);
        }

        return r;
    }
}
