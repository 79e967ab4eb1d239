using Umcg.Abi;

namespace Umcg.Scheduling;

// An open server (K12 in the kernel half, Kernel/UmcgKernel.OpenServer.cs): a server that goes to sleep with nothing to
// run writes TID_OPEN to its next_tid, and the first worker that becomes runnable for it — one whose blocking call
// returned, a pooled thread a spawner handed a body — claims it and runs at once, instead of queuing, waking the server
// and waiting for the server to wake it: two switches fewer for a worker that unblocks, one wake fewer for a spawn.
//
//   O1 open, at S6, only with nothing running or picked (the slot read empty this turn) and only over 0: the CAS fails if
//      user code wrote anything else there, and the server then sleeps shut.
//   O2 shut, as soon as the Wait returns and before the slot is read again: CAS TID_OPEN → 0. If it fails, an arrival
//      claimed us (its mirror, W|TID_RUNNING, is there) and the next turn finds it running as after a direct switch. The
//      server writes no pick while open, so a claim never overwrites one, and cannot claim what was taken back.
//   O3 the claimer's company: a server that sleeps open publishes the margin it would publish for a running worker
//      with no slice armed (Q1). Until a claim its record is empty, and K4q wakes it for every arrival whatever the
//      margin; after one, an arrival that ranks low enough against the claimer waits quietly on the list for the
//      claimer's next stop (H1), as beside any worker the server started. One that needs the server — a higher rank,
//      a slice to arm, since none is armed — wakes it, and it measures the claimer's slice from that turn, as for a
//      successor it did not start itself.
//   O4 what a pick does for the worker it starts, the claimer does for itself once it runs (WorkerThread.OnRunning, told
//      by UmcgKernel.TakeDirectStart): the start counted and traced, a demoted worker restored, the detector told.
internal sealed unsafe partial class Server
{
    /// <summary>For tests: the server sleeps open (or is about to): its next_tid is TID_OPEN.</summary>
    internal bool IsOpenForTests => Slot.IsOpen;

    /// <summary>Whether this server sleeps open when it has nothing to run (O1).</summary>
    private bool MayOpen => _scheduler.Options.OpenIdleServers && !_stopping;

    /// <summary>O1: opens the server for the coming sleep. True if it did (the caller shuts it after its Wait).</summary>
    private bool OpenToArrivals() =>
        // Full fence (CAS) too: our margin and idle mark are written before any arrival can read the offer.
        Interlocked.CompareExchange(ref Self->NextTid, UmcgConstants.TidOpen, 0) == 0;

    /// <summary>O2: takes the offer back. If an arrival claimed it first, it runs for us now (it counts itself: O4).</summary>
    private void ShutToArrivals() => Interlocked.CompareExchange(ref Self->NextTid, 0, UmcgConstants.TidOpen);
}
