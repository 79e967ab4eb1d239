using Umcg.Abi;

namespace Umcg.Scheduling;

// Batch while blocked (UmcgSchedulerOptions.BatchWhileBlocked): the OS class a worker thread waits in. A worker whose
// blocking call returns runs on its server's CPU only to queue itself (K4q: quietly, when its arrival needs no
// server) and sleeps again; a successor is woken a moment before its switcher blocks. Under SCHED_OTHER either wake
// preempts the worker that runs there (an involuntary switch, and the running worker's section waits); under
// SCHED_BATCH the woken thread waits for that worker's own switch. Only the class of the thread being woken counts,
// so a thread keeps the class it waited in until it next waits in another way:
//
//   B1 entering a blocking region (or taking the next body straight from the queue): SCHED_BATCH when the arrival
//      that follows will be quiet against any running worker (the server's margin lets the lowest rank through), else
//      SCHED_OTHER — an arrival that must reach its server (a higher priority, a slice to arm) has to run at once. A
//      server idle now does not count (Q4): the arrival comes a blocking call later. Judged before the block, while
//      the server's margin describes a running worker.
//   B2 before a yield or a park (a Umcg primitive, Worker.Sleep): SCHED_OTHER. The switcher sleeps in its own Wait at
//      once, so a successor that preempts it saves the switcher's futex wait (docs/scheduling.md, "The OS's part").
//   B2g a give-way (a yield at a safepoint, asked for by a higher rank's arrival or a spent slice) to a successor that
//      outranks us: SCHED_BATCH. That worker wakes us as it stops — a body that ends has its completion and its way
//      to the pool still ahead, one that blocks its region's entry — and we have nothing more urgent than that. A
//      give-way to an equal rank (a spent slice), or through the server, is B2's case: SCHED_OTHER.
//   B3 at the end of a body, before the thread offers itself to the pool: SCHED_OTHER, so that a pooled thread woken
//      for a body of any rank can queue at once.
//
// Each step costs a system call only when the class changes: a worker that only blocks stays SCHED_BATCH, one that
// only yields stays SCHED_OTHER. A thread under any other policy (demoted: SCHED_IDLE or nice 19; or set so by its
// body) is left alone; a demotion saves and restores whichever of the two it found. Every change, and the restoration,
// asks the scheduler's OS time slice again: a class change drops it (ThreadSlice.Linux.cs).
public sealed unsafe partial class WorkerThread
{
    // The class this thread last set itself to (true: SCHED_BATCH). Read and written only by the thread itself; a
    // restoration after a demotion puts back the class the demotion found, so the two agree again.
    private bool _runsAsBatch;

    // BatchWorkerThreads: SCHED_BATCH for the thread's whole life, none of the steps above.
    private bool _batchForGood;

    // The OS slice this thread last asked for (OsSliceGovernor.CurrentNs then): a step that finds the scheduler's slice
    // changed since asks it again, class change or not. Written by the thread itself; a demotion's restoration (on
    // another thread) asks the slice of its moment and leaves this alone, so at worst one needless ask follows.
    private long _askedSliceNs;

    /// <summary>At thread start: SCHED_BATCH for good under <see cref="UmcgSchedulerOptions.BatchWorkerThreads"/>.</summary>
    private void ChooseInitialOsClass()
    {
        if (Scheduler.Options.BatchWorkerThreads && WorkerThreadPolicy.RunAsBatch(Scheduler.OsSliceNs))
        {
            _runsAsBatch = _batchForGood = true;
        }

        // Also when the thread already was SCHED_BATCH (no change made); every class change below asks it again.
        _askedSliceNs = Scheduler.OsSliceNs;
        ThreadSlice.Ask(_askedSliceNs);
    }

    /// <summary>B1: the class to wait in for the next arrival, by whether it will be quiet (read now, while we run).</summary>
    internal void ChooseOsClassForArrival() => WaitInClass(BatchSuitsNextArrival());

    /// <summary>
    /// B1, first half: whether to wait for the coming arrival under SCHED_BATCH. Read while we still run for our
    /// server: once we block without a successor the server wakes to an empty record and publishes margin 0 (nothing
    /// runs), although by our arrival it may well run another worker again.
    /// </summary>
    internal bool BatchSuitsNextArrival() =>
        !_batchForGood && Scheduler.Options.BatchWhileBlocked && ArrivalIsQuietAgainstAnyRank();

    /// <summary>B1, second half: switch to SCHED_BATCH (<paramref name="batch"/>) or SCHED_OTHER if the thread is not there yet.</summary>
    internal void WaitInClass(bool batch)
    {
        long slice = Scheduler.OsSliceNs;
        if (_batchForGood || batch == _runsAsBatch)
        {
            ThreadSlice.AskIfChanged(ref _askedSliceNs, slice);
            return;
        }

        _askedSliceNs = slice;
        if (batch ? WorkerThreadPolicy.RunAsBatch(slice) : WorkerThreadPolicy.RunAsNormal(slice))
        {
            _runsAsBatch = batch;
        }
    }

    /// <summary>B2, B3: SCHED_OTHER for a wait that ends in a switch from a thread about to sleep.</summary>
    internal void RunAsNormalForWait() => WaitInClass(batch: false);

    /// <summary>
    /// B2g: the class for the wait after a give-way: SCHED_BATCH (under <see cref="UmcgSchedulerOptions.BatchWhileBlocked"/>)
    /// when the successor outranks us (<paramref name="outranked"/>), else SCHED_OTHER as B2.
    /// </summary>
    internal void WaitAfterGivingWay(bool outranked) => WaitInClass(batch: outranked && !_batchForGood && Scheduler.Options.BatchWhileBlocked);

    /// <summary>
    /// Whether K4q would let our arrival on our server be quiet whatever worker runs there: our rank is below the lowest
    /// rank's bar (rank 0 + margin − 1). Read from the margin the kernel half judges by, or, while Q2 holds it at 0 for
    /// an idle server, from the one the policy last gave (Q4, Server.QuietArrivals.cs); a hint, since
    /// the margin changes when the server sleeps: a wrong guess costs a preemption (SCHED_OTHER) or a wait for the
    /// running worker's next switch (SCHED_BATCH), never a lost arrival.
    /// </summary>
    private bool ArrivalIsQuietAgainstAnyRank()
    {
        int margin = Server.ExpectedQuietMargin;
        return margin != 0 && StateWord.ArrivalOf(Block.Task) < margin - 1;
    }
}
