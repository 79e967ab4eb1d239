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
    /// <item>EINVAL: not registered, flags, a worker naming itself or a worker of another server as next.
    /// ERANGE: a worker with a timeout.</item>
    /// <item>EAGAIN: the caller was not RUNNABLE (a wake came first), or next_tid was not RUNNABLE.</item>
    /// <item>ESRCH: next_tid is not a task of this kernel half (bits 30 and 31 are no part of a TID).</item>
    /// <item>ETIMEDOUT: a server's deadline passed; it is RUNNING again.</item>
    /// </list>
    /// On each error above the caller is RUNNING again, nothing was queued and nobody was woken. A worker
    /// that broke the protocol is removed instead, its server released and woken: ESRCH if its server_tid
    /// names no server, or its server left before running it again; EINVAL if its server's record does not
    /// name it (server_tid changed while it ran), or its state was scribbled while it waited. A server whose
    /// kernel-half record names a running worker ignores next_tid and sleeps until that worker stops.
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

        KernelTask server;
        using (BlockGrace.Enter())
        {
            if (ResolveServer(self, out server) != Errno.Ok)
            {
                return Kill(self, Errno.ESRCH, "its server_tid does not name a registered server");
            }

            // Resolve next before any side effect, so that an error leaves everything as it was.
            var named = ResolveSuccessor(self, server, out var next);
            if (named != Errno.Ok)
            {
                return Refuse(self, named);
            }

            // A worker in the background holds no CPU to hand on: a switch is refused before any side effect, so that
            // the worker it names (which user space took out of its run queue) goes back there, not to sleep with us.
            // Its word (RUNNABLE | TF_COND_WAIT | TF_BACKGROUND) changes under nobody else: it is on no list.
            if (next is not null && IsInBackground(self))
            {
                return Refuse(self, Errno.EAGAIN);
            }

            // Checks RUNNABLE and clears TF_COND_WAIT (and TF_BACKGROUND) in one step.
            var r = UpdateState(self, TaskState.Runnable, TaskState.Runnable, out uint replaced);
            if (r != Errno.Ok)
            {
                return r;
            }

            if (LeftBackground(replaced))
            {
                // K2 from the background (PrepareWait kept the flag): queued like an arrival, next_tid left as it
                // was — a worker that holds no record has no CPU to hand on. It sleeps below, once the read section
                // is closed, as on every path: a section that sleeps holds up every grace period (BlockGrace).
                QueueArrival(self, server);
            }

            // Before anything is queued: a worker its server's record does not name had its server_tid changed
            // while it ran. It is removed without ever touching the list of the server it now names.
            else if (!server.Slot.Holds(self.Tid))
            {
                return KillMovedWorker(self);
            }
            else if (next is not null)
            {
                // The RFC's order: queue ourselves before next can run. Once next runs it may give the CPU back
                // at once, and the server's drain must then already find us on the list.
                if (next.State != TaskState.Runnable)
                {
                    UpdateState(self, TaskState.Runnable, TaskState.Running);
                    return Errno.EAGAIN;
                }

                // Cannot fail while we hold the record (only its holder moves it); removed like a yield if it does.
                if (!MoveSlot(self, server, next))
                {
                    return KillMovedWorker(self);
                }

                // Consumed: user space sees that the switch happened.
                Volatile.Write(ref *self.NextTidWord, 0);
                AfterSwitchSlotMovedForTests?.Invoke(self.Tid);
                PushRunnable(self, server);
                bool lower = RanksBelow(next, self);
                StartSwitchedTo(next, server);
                WakeServerIfOthersListed(server, left: self, leftIsListed: true, successorRanksBelow: lower);
            }
            else
            {
                // A yield with nothing else runnable runs us again.
                if (!ReleaseSlotAfterQueueing(self, server))
                {
                    return KillMovedWorker(self);
                }
            }
        }

        return AwaitRun(self, server);
    }

    /// <summary>
    /// The worker a worker's next_tid names as its successor (a switch in <see cref="Wait"/>, a block in
    /// <see cref="SysEnter"/>), or null for none. Bits 30 and 31 are no part of a TID: a next_tid carrying either
    /// names no task (ESRCH), as in Ctl and Kick; a task that is the caller, a server, or another server's worker
    /// is EINVAL. Reads only: the caller decides what an error leaves.
    /// </summary>
    private Errno ResolveSuccessor(KernelTask self, KernelTask server, out KernelTask? next)
    {
        next = null;
        uint nextTid = Volatile.Read(ref *self.NextTidWord);
        if (nextTid == 0)
        {
            return Errno.Ok;
        }

        if (!_tasks.TryGet(nextTid, out var named))
        {
            return Errno.ESRCH;
        }

        if (named == self || !named.IsWorker || Volatile.Read(ref named.Block->ServerTid) != (uint)server.Tid)
        {
            return Errno.EINVAL;
        }

        next = named;
        return Errno.Ok;
    }

    private Errno ServerWait(KernelTask self, long absTimeoutNs)
    {
        var r = UpdateState(self, TaskState.Runnable, TaskState.Runnable);
        if (r != Errno.Ok)
        {
            return r;
        }

        bool started = false;
        using (BlockGrace.Enter())
        {
            // While the kernel half's record names a running worker, next_tid is not looked at: whatever user
            // code wrote there, the server sleeps until that worker stops. So no server ever runs two workers.
            var slot = RunningSlot.FromRaw(Volatile.Read(ref *self.NextTidWord));
            if (self.Slot.Kind == ServerSlot.SlotKind.Empty && slot.IsPick)
            {
                r = StartNamed(self, slot.Raw);
                if (r != Errno.Ok)
                {
                    UpdateState(self, TaskState.Runnable, TaskState.Running);
                    return r;
                }

                started = true;
            }
        }

        ServerWaitDecidedForTests?.Invoke(self.Tid, started);

        // With a worker running (or TID_RUNNING already in the slot): just sleep.
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
        // EAGAIN from here just means the caller was not RUNNABLE (still RUNNING, or BLOCKED): leave it so. A worker
        // in the background stays there: it holds no record, so RUNNING without the flag would break I1′.
        UpdateState(self, TaskState.Runnable, TaskState.Running, out _, keep: (uint)TaskFlags.Background);
        return error;
    }

    /// <summary>The server runs the worker its next_tid names. ESRCH: no such task (bit 30 set included); EINVAL: not a worker of this server.</summary>
    private Errno StartNamed(KernelTask server, uint slot)
    {
        if (!_tasks.TryGet(slot, out var worker))
        {
            return Errno.ESRCH;
        }

        if (!worker.IsWorker || Volatile.Read(ref worker.Block->ServerTid) != (uint)server.Tid)
        {
            return Errno.EINVAL;
        }

        return StartWorker(server, worker);
    }
}
