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
//        any thread may unblock it, and the caller must not end the region itself unless it knows none will (the
//        scheduler's handshake, WorkerThread.Idle.cs, is what tells it).
//   K11w wait (IdleWait): the caller sleeps on its state word while it stays BLOCKED with the Idle mark (or with
//        Unblocking: an unblocker is between its two CASes); once RUNNABLE it waits to be run as K4 does (AwaitRun).
//        A word an unblocker set to NONE ends the wait with the worker's removal, for the reason the unblocker left.
//   K11u unblock (UnblockIdle): take the offer (CAS Idle → Unblocking: one unblocker wins), BLOCKED → RUNNABLE, then
//        the mark to None, push on the server server_tid names, wake it unless the arrival is quiet (K4q) — or, if that
//        server sleeps open (K12), claim it and wake the worker to run (one wake in all). No server to
//        queue on, or a word user code scribbled, calls the offer off: the reason is left on the task, the word set to
//        NONE, the sleeper woken, and its wait removes it — nothing sleeps for ever.
//
// Why it is safe. The Idle mark is set only by the worker on itself, from InRegion, and taken only by K11u's CAS or by
// the worker's own K4 (TakeBlockMark accepts any kernel mark, and the handshake keeps the two apart); so exactly one
// of them moves the worker off BLOCKED, and a worker unblocked on its behalf is queued exactly once (I4). While the
// word says BLOCKED the mark is never None (Idle, then Unblocking until the word says RUNNABLE), so a detector acting
// on an old look, whose block claims the mark from None first, cannot claim it then; once the worker runs, a detector
// that marks it before its thread is back from the park leaves the mark ByDetector, and the wait finishes that block
// as every wait does (RequeueMarkedWait). Every change the sleeper must see changes its word first (RUNNABLE, RUNNING,
// or NONE for a call-off) — I5 — and the unblocker wakes it only for a call-off: otherwise it sleeps on until K6 makes
// it RUNNING and unparks it.
public sealed unsafe partial class UmcgKernel
{
    /// <summary>
    /// K11o: the calling worker, BLOCKED in its own blocking region, offers itself to be unblocked by another thread
    /// (<see cref="UnblockIdle"/>); follow with <see cref="IdleWait"/>. Ending the region with <see cref="SysExit"/>
    /// instead is safe only when no unblock can come (an unblocker that took the offer first would leave the worker's
    /// own unblock no mark to take, and it would be removed): the scheduler's handshake tells it.
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
    /// Ok once RUNNING (at once for a caller that runs already); EAGAIN if no offer stands (the worker is still BLOCKED
    /// in its region and ends it with <see cref="SysExit"/>); EINVAL for a non-worker; ESRCH or EINVAL if the worker was
    /// removed while it waited (the unblocker found no server, or its state word scribbled; its server went away
    /// before running it).
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
            uint state = seen & UmcgConstants.StateMask;
            if (state == (uint)TaskState.None && self.IdleCallOff is { } callOff)
            {
                return Kill(self, callOff.Error, callOff.Reason);
            }

            if (state != (uint)TaskState.Blocked)
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

            // Idle (nobody took us yet) or Unblocking (an unblocker writes RUNNABLE next): the word changes before
            // anything wakes us, so parking on the value we read loses nothing.
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
    /// woken once, when a server or a switching worker runs it — at once, by this call, if that server sleeps open to
    /// arrivals (K12). Any thread may call it.
    /// </summary>
    /// <returns>
    /// Ok; ESRCH if <paramref name="task"/> is no registered worker; EINVAL if the worker made no offer (it runs, or is
    /// in a blocking region it ends itself) or was already unblocked. ESRCH if its server_tid names no registered
    /// server, EINVAL if its state word was scribbled while it waited: the offer is then called off and the worker
    /// removed (its <see cref="IdleWait"/> returns the same error).
    /// </returns>
    public Errno UnblockIdle(UmcgTask* task)
    {
        using var section = BlockGrace.Enter();
        if (!_tasks.TryGetByBlock((ulong)task, out var worker) || !worker.IsWorker)
        {
            return Errno.ESRCH;
        }

        // Unblocking, not None: a BLOCKED word never shows no mark here (see the head of this file).
        if (Interlocked.CompareExchange(ref worker.BlockMark, KernelTask.BlockMarks.Unblocking, KernelTask.BlockMarks.Idle) != KernelTask.BlockMarks.Idle)
        {
            return Errno.EINVAL;
        }

        if (ResolveServer(worker, out var server) != Errno.Ok)
        {
            return CallOffIdle(worker, Errno.ESRCH, "its server_tid does not name a registered server");
        }

        if (UpdateState(worker, TaskState.Blocked, TaskState.Runnable) != Errno.Ok)
        {
            return CallOffIdle(worker, Errno.EINVAL, "its state word was set by user code while it waited idle");
        }

        // Only now, with the word RUNNABLE: from here a detector's block, which claims the mark from None, finds
        // nothing to block until the worker runs (its CAS from RUNNING fails and gives the mark back).
        Volatile.Write(ref worker.BlockMark, KernelTask.BlockMarks.None);

        // K12: an open server runs it at once (one wake, the worker's); else the push and K4q's wake.
        if (!TryStartIdleOnOpenServer(worker, server))
        {
            QueueArrival(worker, server);
        }

        return Errno.Ok;
    }

    /// <summary>
    /// K11u cannot queue the worker it took: the reason goes on the task, then the word to NONE (whatever user code
    /// wrote there; the change the sleeper parks against), then the wake. Its <see cref="IdleWait"/> removes it.
    /// </summary>
    private Errno CallOffIdle(KernelTask worker, Errno error, string reason)
    {
        worker.IdleCallOff = new IdleCallOff(error, reason);
        uint* word = worker.StateWord;
        uint old = Volatile.Read(ref *word);
        while (true)
        {
            // Full fence (CAS): the reason is visible to a sleeper that reads NONE.
            uint seen = Interlocked.CompareExchange(ref *word, (old & UmcgConstants.UserMask) | (uint)TaskState.None, old);
            if (seen == old)
            {
                break;
            }

            old = seen;
        }

        // The word says NONE: nothing claims the mark any more (a detector blocks only RUNNING workers). Then the
        // wake, after the word's change (I5): a sleeper that read BLOCKED either parks and is woken here, or finds NONE.
        Volatile.Write(ref worker.BlockMark, KernelTask.BlockMarks.None);
        Parker.Unpark(word);
        return error;
    }
}

/// <summary>Why an unblocker called an idle worker's offer off (K11u): the error and reason of the worker's removal.</summary>
internal sealed record IdleCallOff(Errno Error, string Reason);
