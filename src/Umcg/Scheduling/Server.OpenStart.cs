using Umcg.Abi;
using Umcg.Kernel;

namespace Umcg.Scheduling;

// An open server (K12 in the kernel half, Kernel/UmcgKernel.OpenServer.cs): a server that goes to sleep with nothing to
// run writes TID_OPEN to its next_tid, and the first worker that becomes runnable for it — one whose blocking call
// returned, a pooled thread a spawner handed a body — claims it and runs at once, instead of queuing, waking the server
// and waiting for the server to wake it: two switches fewer for a worker that unblocks, one wake fewer for a spawn.
//
//   O1 open, at S6, only with nothing running or picked (the slot read empty this turn) and only over 0: the CAS fails if
//      user code wrote anything else there, and the server then sleeps shut.
//   O2 shut, as soon as the Wait returns and before the slot is read again (at S4 until it is no longer open: a claimer
//      may block and open it again between the shut and the re-read): CAS TID_OPEN → 0. If it fails, an arrival
//      claimed us (its mirror, W|TID_RUNNING, is there) and the next turn finds it running as after a direct switch. The
//      server writes no pick while open, so a claim never overwrites one, and cannot claim what was taken back. A block
//      may also open the slot while the server is awake (O5): S4 takes it back the same way before it reads the slot
//      as empty, and only then picks.
//   O3 the claimer's company: a server that sleeps open publishes the margin it would publish for a running worker
//      with no slice armed (Q1). Until a claim its record is empty, and K4q wakes it for every arrival whatever the
//      margin; after one, an arrival that ranks low enough against the claimer waits quietly on the list for the
//      claimer's next stop (H1), as beside any worker the server started. One that needs the server — a higher rank,
//      a slice to arm, since none is armed — wakes it, and it measures the claimer's slice from that turn, as for a
//      successor it did not start itself.
//   O4 what a pick does for the worker it starts, the claimer does for itself once it runs (WorkerThread.NoteDirectStart,
//      told by UmcgKernel.TakeDirectStart): the start counted and traced, its slice started at the claim, a demoted
//      worker restored, the detector told.
//   O5 a worker that blocks (a region, or the end of its body) with no successor (H1–H2s found nothing) and nothing
//      for the server to do (no timer to arm, no background worker to adopt, no stop) leaves the server asleep open
//      (K12l: next_tid = TID_OPEN on its block) instead of waking it, only for it to find nothing and open. Then a look
//      at our run queue: the server's own drain may have queued a worker after our pick looked and read the slot before
//      it opened (S4 fences between the two), so a worker there wakes it. Then, as an idle server's Q2 would: the
//      others' margins zeroed (we look idle now: our slot is open), and if another server has more than it can run,
//      our server woken to steal it (S4).
//   O6 busy time: the server accounts its busy time at its own turns; a claim and a block that left it open happen
//      between them, so each stamps when (the latest of each), and the next turn accounts up to those stamps first.
internal sealed unsafe partial class Server
{
    // O6: when the latest claim of our open slot ran, and when the latest block left us open (monotonic ns, 0: none
    // since our last turn). Written by those workers, taken by our turn.
    private long _claimedAtNs;
    private long _leftOpenAtNs;

    /// <summary>For tests: the server sleeps open (or is about to): its next_tid is TID_OPEN.</summary>
    internal bool IsOpenForTests => Slot.IsOpen;

    /// <summary>Whether this server sleeps open when it has nothing to run (O1).</summary>
    private bool MayOpen => _scheduler.Options.OpenIdleServers && !_stopping;

    /// <summary>O1: opens the server for the coming sleep. True if it did (the caller shuts it after its Wait).</summary>
    private bool OpenToArrivals() =>
        // Full fence (CAS) too: our margin and idle mark are written before any arrival can read the offer.
        Interlocked.CompareExchange(ref Self->NextTid, UmcgConstants.TidOpen, 0) == 0;

    /// <summary>
    /// O2: takes the offer back, whoever made it (we, or a block that left us open while we slept: O5). If an arrival
    /// claimed it first, it runs for us now (it counts itself: O4).
    /// </summary>
    private void ShutToArrivals() => Interlocked.CompareExchange(ref Self->NextTid, 0, UmcgConstants.TidOpen);

    /// <summary>O5: whether a worker that stops with nothing to hand on may leave us asleep open.</summary>
    private bool MayBeLeftOpen => MayOpen && _backgroundCount == 0 && Volatile.Read(ref _adoptFirst) is null;

    /// <summary>
    /// O5, on the thread of the worker whose block just left us open: counted and stamped (O6), then Q2 as an idle
    /// server's own turn would do it — the others' margins zeroed, and our server woken if another has work to steal.
    /// </summary>
    internal void AfterLeftOpen()
    {
        Volatile.Write(ref _leftOpenAtNs, KernelClock.Now(ClockId.Monotonic));
        _scheduler.Stats.CountBlockLeftServerOpen();

        // Our server's own drain (S2) may have queued a worker after our successor pick looked, and read the slot
        // before it opened: after the kernel half's CASes, either we see that worker here, or the server's read of the
        // slot (after its fence in S4) finds it open and picks.
        if (QueueLength > 0)
        {
            Wake();
        }

        if (!_scheduler.Options.Balance)
        {
            return;
        }

        // Q2: we look idle from the moment the slot opened (IsIdle reads it); RevokeQuietArrivals fences first.
        if (_scheduler.Options.QuietArrivals)
        {
            RevokeQuietArrivals();
        }

        // An arrival quiet on a busy server before the zeroing is on its list by now: our server steals it (S4's
        // PickNext drains the victim's list first). Anything later wakes its own server, which hands it to us (S5).
        foreach (var other in _scheduler.Servers)
        {
            if (!ReferenceEquals(other, this) && other.HasWorkToSteal)
            {
                Wake();
                return;
            }
        }
    }

    /// <summary>Whether a thief could take something from us now: listed arrivals, or more queued than we can run.</summary>
    private bool HasWorkToSteal =>
        Volatile.Read(ref Self->RunnableWorkersPtr) != 0 || QueueLength >= (Slot.IsRunning ? 1 : 2);

    /// <summary>
    /// O4, O6: <paramref name="worker"/> claimed our open slot and started running at <paramref name="atNs"/>: its slice
    /// starts then (as H2 stamps a successor's; an old stamp of the same worker would end the slice at once), and our
    /// busy time with it.
    /// </summary>
    internal void NoteClaimed(WorkerThread worker, long atNs)
    {
        lock (_queueLock)
        {
            _sliceOwner = worker.Tid;
            _sliceStartNs = atNs;
        }

        Volatile.Write(ref _claimedAtNs, atNs);
    }

    /// <summary>
    /// O6, at the start of a turn's accounting: what happened while we slept open — a block that left us open (busy
    /// until then), a claim (busy from then) — in the order it happened (the latest of each).
    /// </summary>
    private void AccountOpenSpells(long now)
    {
        long leftOpen = Interlocked.Exchange(ref _leftOpenAtNs, 0);
        long claimed = Interlocked.Exchange(ref _claimedAtNs, 0);
        if (claimed != 0 && claimed <= leftOpen)
        {
            Counters.AccountBusy(claimed, busy: true);
            claimed = 0;
        }

        if (leftOpen != 0 && leftOpen <= now && Counters.BusySinceNs != 0 && leftOpen >= Counters.BusySinceNs)
        {
            Counters.AccountBusy(leftOpen, busy: false);
        }

        if (claimed != 0 && claimed <= now && Counters.BusySinceNs == 0)
        {
            Counters.AccountBusy(claimed, busy: true);
        }
    }
}
