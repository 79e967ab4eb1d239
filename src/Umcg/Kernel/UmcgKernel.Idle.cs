using Umcg.Abi;

namespace Umcg.Kernel;

// K11, idle workers queued by another thread: an extension of the RFC. A worker thread with nothing to run waits
// BLOCKED, inside a blocking region of its own. Ending that region itself (K4) means its thread must first be woken,
// run on some CPU to queue itself, and sleep again until its server runs it: two switches before the one that runs
// it. Here it offers itself instead (K11o), and the thread that has work for it (a spawner) does its unblock for it
// (K11u): the same edge, the same push and the same quiet-arrival rule as K4, while the worker sleeps through it and
// is woken once, by the server or switcher that runs it (K6).
//
//   K11o offer (OfferIdle): the caller, BLOCKED in its own region (mark InRegion), turns its mark to Idle. From now on
//        any thread may unblock it.
//   K11w wait (IdleWait): the caller sleeps on its state word while it stays BLOCKED with the Idle mark (or with no
//        mark: an unblocker took it and has not yet written RUNNABLE); once RUNNABLE it waits to be run as K4 does
//        (AwaitRun). A mark put back to InRegion calls the wait off (EAGAIN): the caller is still in its region.
//   K11u unblock (UnblockIdle): take the Idle mark (CAS Idle → None: one unblocker wins), BLOCKED → RUNNABLE, push on
//        the server server_tid names, wake it unless the arrival is quiet (K4q). When the server cannot be resolved
//        the mark goes back to InRegion and the sleeper is woken: its wait is called off, and its own SysExit (K4)
//        then removes it as it would any worker whose server is gone — nothing sleeps for ever.
//
// Why it is safe. The Idle mark is set only by the worker on itself, from InRegion, and taken only by K11u's CAS or by
// the worker's own K4 (TakeBlockMark accepts any kernel mark); so exactly one of them moves the worker off BLOCKED,
// and a worker unblocked on its behalf is queued exactly once (I4). A detector marks only RUNNING workers, never an
// idle one; one that marks the worker after a server ran it (before its thread is back from the park) leaves the mark
// ByDetector, and the wait finishes that block as every wait does (RequeueMarkedWait). The unblocker changes the word
// (BLOCKED → RUNNABLE, a CAS) before anyone can change it again, and never wakes the sleeper: it sleeps on until K6
// makes it RUNNING and unparks it (I5: the word changes before every wake).
public sealed unsafe partial class UmcgKernel
{
    /// <summary>
    /// K11o: the calling worker, BLOCKED in its own blocking region, offers itself to be unblocked by another thread
    /// (<see cref="UnblockIdle"/>); follow with <see cref="IdleWait"/>, or with <see cref="SysExit"/> to end the region
    /// itself after all.
    /// </summary>
    /// <returns>Ok; EINVAL for a non-worker, or a worker that is not BLOCKED in a region of its own.</returns>
    public Errno OfferIdle()
    {
        var self = Current;
        if (self is null || !self.IsWorker || self.State != TaskState.Blocked)
        {
            return Errno.EINVAL;
        }

        // Only the worker writes Idle, and only from InRegion: a detector's mark (or none) is not a region of its own.
        int held = Interlocked.CompareExchange(ref self.BlockMark, KernelTask.BlockMarks.Idle, KernelTask.BlockMarks.InRegion);
        return held is KernelTask.BlockMarks.InRegion or KernelTask.BlockMarks.Idle ? Errno.Ok : Errno.EINVAL;
    }

    /// <summary>
    /// K11w: the calling worker, offered by <see cref="OfferIdle"/>, sleeps until another thread unblocks it
    /// (<see cref="UnblockIdle"/>) and a server runs it; it then runs on its server's CPU, as after <see cref="SysExit"/>.
    /// </summary>
    /// <returns>
    /// Ok once RUNNING (at once for a caller that runs already); EAGAIN if no offer stands, never made or called off
    /// (the worker is still BLOCKED in its region: it ends the region with <see cref="SysExit"/>); EINVAL for a
    /// non-worker; ESRCH or EINVAL if the worker was removed while it waited (its server went away; its state word
    /// was scribbled).
    /// </returns>
    public Errno IdleWait()
    {
        var self = Current;
        if (self is null || !self.IsWorker)
        {
            return Errno.EINVAL;
        }

        uint* word = self.StateWord;
        while (true)
        {
            uint seen = Volatile.Read(ref *word);
            if ((seen & UmcgConstants.StateMask) != (uint)TaskState.Blocked)
            {
                break; // unblocked: RUNNABLE or already RUNNING (AwaitRun sorts out anything else)
            }

            int mark = Volatile.Read(ref self.BlockMark);
            if (mark == KernelTask.BlockMarks.InRegion)
            {
                return Errno.EAGAIN;
            }

            if (mark == KernelTask.BlockMarks.ByDetector)
            {
                break; // unblocked, run, and marked again before we woke: AwaitRun requeues it
            }

            // Idle (nobody took us yet), or None (an unblocker took the mark and writes RUNNABLE next): the word
            // changes before anything wakes us, so parking on the value we read loses nothing.
            Parker.Park(word, seen, 0, self.Clock);
        }

        if (ResolveServer(self, out var server) != Errno.Ok)
        {
            return Kill(self, Errno.ESRCH, "its server_tid does not name a registered server");
        }

        return AwaitRun(self, server);
    }

    /// <summary>
    /// K11u: makes the idle worker whose control block is <paramref name="task"/> RUNNABLE on the server its
    /// server_tid names, as its own <see cref="SysExit"/> would (quiet arrivals included), without waking it: it is
    /// woken once, when a server or a switching worker runs it. Any thread may call it.
    /// </summary>
    /// <returns>
    /// Ok; ESRCH if <paramref name="task"/> is no registered worker, or its server_tid names no registered server (the
    /// offer is then called off: the worker's <see cref="IdleWait"/> returns EAGAIN); EINVAL if the worker made no
    /// offer (it runs, or is in a blocking region it ends itself) or was already unblocked.
    /// </returns>
    public Errno UnblockIdle(UmcgTask* task)
    {
        using var section = BlockGrace.Enter();
        if (!_tasks.TryGetByBlock((ulong)task, out var worker) || !worker.IsWorker)
        {
            return Errno.ESRCH;
        }

        if (ResolveServer(worker, out var server) != Errno.Ok)
        {
            // Call the offer off: the worker's own SysExit will find the server gone and remove it.
            if (Interlocked.CompareExchange(ref worker.BlockMark, KernelTask.BlockMarks.InRegion, KernelTask.BlockMarks.Idle) == KernelTask.BlockMarks.Idle)
            {
                Parker.Unpark(worker.StateWord);
            }

            return Errno.ESRCH;
        }

        if (Interlocked.CompareExchange(ref worker.BlockMark, KernelTask.BlockMarks.None, KernelTask.BlockMarks.Idle) != KernelTask.BlockMarks.Idle)
        {
            return Errno.EINVAL;
        }

        if (UpdateState(worker, TaskState.Blocked, TaskState.Runnable) != Errno.Ok)
        {
            // User code wrote its word while it slept: wake it to find out (its wait then removes it).
            Parker.Unpark(worker.StateWord);
            return Errno.EINVAL;
        }

        PushRunnable(worker, server);
        if (!IsQuietArrival(worker, server))
        {
            WakeServer(server);
        }

        return Errno.Ok;
    }
}
