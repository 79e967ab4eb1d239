using Umcg.Abi;

namespace Umcg.Scheduling;

// A worker's side of the direct successor (steps H1–H4 in Server.Handoff.cs): entering a blocking region or
// leaving a finished body hands the CPU to the successor through K3s; a yield or a park through K2.
public sealed unsafe partial class WorkerThread
{
    /// <summary>
    /// Blocks the calling worker (a region, or the end of a body), handing its CPU to its server's next worker when
    /// there is one (K3s), else to its server (K3). Returns the kernel half's answer to the block.
    /// </summary>
    /// <param name="region">A blocking region, whose end is an arrival: the thread waits for it in the class B1 picks.</param>
    internal Errno EnterBlocking(bool region = true)
    {
        bool batch = region && BatchSuitsNextArrival(); // B1, judged while we still run
        var successor = Server.TakeSuccessor(this, yielding: false);
        var next = successor.Next;
        var task = Block.Task;
        if (next is null)
        {
            // O5: nothing for the server to run or decide: the block leaves it asleep open (K12l) instead of waking it.
            if (successor.LeaveOpen)
            {
                Volatile.Write(ref task->NextTid, UmcgConstants.TidOpen);
            }

            var plain = Kernel.SysEnter();
            if (successor.LeaveOpen)
            {
                if (Volatile.Read(ref task->NextTid) == 0)
                {
                    Server.AfterLeftOpen();
                }
                else
                {
                    // Not consumed: a detector blocked us first, or the block came from the background, or the mirror
                    // was not ours to open: the kernel half released and woke the server as a plain block does.
                    Volatile.Write(ref task->NextTid, 0);
                }
            }

            // D4, after the block took us out of the background (if we were there): the blocking call that follows,
            // and what a finished body does next, run at our own priority, not behind every thread of our CPU.
            RestoreIfDemoted();
            WaitInClassIfRegion(region, batch); // B1, before the blocking call whose return is our arrival
            WakeServerIfAsked(successor);
            return plain;
        }

        Volatile.Write(ref task->NextTid, (uint)next.Tid);
        var r = Kernel.SysEnter();
        RestoreIfDemoted(); // demoted after we picked: the block came from the background (D4, as above)
        WaitInClassIfRegion(region, batch); // B1: the successor already runs; only our own wake-up is left to decide
        if (Volatile.Read(ref task->NextTid) == 0)
        {
            // Consumed: the record moved to the successor, which runs now.
            Scheduler.Telemetry.HandedOff(this, next);
            WakeServerIfAsked(successor);
            return r;
        }

        // No switch happened. Either a detector blocked us first (Ok: our server was released and woken), or the
        // kernel half refused next_tid and we still run (then block the plain way), or we were removed. Either
        // way the successor goes back to the run queue: the server runs it.
        Volatile.Write(ref task->NextTid, 0);
        if (r != Errno.Ok && Kernel.IsWorkerThread && StateWord.StateOf(task) == TaskState.Running)
        {
            r = Kernel.SysEnter();
        }

        Server.MakeReady(next);
        return r;
    }

    /// <summary>
    /// RUNNING with TF_PREEMPT and no other flag: the server asked us to give way, and the direct successor may answer
    /// (a yield's H1–H4). Not in the background, not marked for a demotion, not BLOCKED: those take K5's path. Nor
    /// while another server idles: K5 wakes our server, whose turn hands us to that server at once (S5); a direct
    /// switch would leave us on our server's list, which nobody looks at until our server's next turn.
    /// </summary>
    internal bool IsAskedToGiveWay
    {
        get
        {
            // A read, not a claim: Yield's PrepareWait CAS decides. A mark landing after it makes that CAS fail, and a
            // demotion (TF_BACKGROUND) makes the kernel half refuse the switch; either way Yield falls back to K5.
            uint state = Volatile.Read(ref Block.Task->State);
            return Scheduler.Options.DirectSuccessor
                && (state & UmcgConstants.StateMask) == (uint)TaskState.Running
                && (state & UmcgConstants.FlagsMask) == (uint)TaskFlags.Preempt
                && !(Scheduler.Options.Balance && CanMigrate && Scheduler.IdleServerBesides(Server) is not null);
        }
    }

    /// <summary>
    /// Wake-to-remote-idle for an arrival, before a worker leaves its blocking region: if its server runs another
    /// worker and another server sleeps with nothing to run, the worker moves there (it is BLOCKED, so its
    /// server_tid may change: V3) and its unblock queues it on the idle server, which it wakes. Otherwise it would
    /// wait behind its busy server's running worker while a CPU idles.
    /// </summary>
    internal void MoveToIdleServerIfBusy()
    {
        if (!CanMigrate || !Scheduler.Options.Balance || !Server.RunsAWorker)
        {
            return;
        }

        // IsIdle is a hint read without a lock: a server that stops being idle meanwhile simply queues us (our unblock
        // wakes it, its record being empty or our arrival judged by its margin).
        if (Scheduler.IdleServerBesides(Server) is { } idle)
        {
            MoveTo(idle);
            Scheduler.Stats.CountArrivalMovedToIdleServer();
        }
    }

    private void WaitInClassIfRegion(bool region, bool batch)
    {
        if (region)
        {
            WaitInClass(batch);
        }
    }

    /// <summary>H3 after a block: the server has a deadline to arm or a decision to make that the switch did not.</summary>
    private void WakeServerIfAsked(Server.Successor successor)
    {
        if (successor.WakeServer)
        {
            Server.Wake();
        }
    }
}
