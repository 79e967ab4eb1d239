using Umcg.Abi;
using Umcg.Scheduling.Policies;

namespace Umcg.Scheduling;

// Quiet arrivals: a worker that unblocks (or is spawned) while its server runs another is pushed on the server's
// list without waking it, unless the policy would act on the arrival now. The kernel half decides (K4q, in
// Kernel/UmcgKernel.Hooks.cs) from two user-written numbers in the arrival bits of the state words: the worker's
// rank (its policy's RankOf, written when a body is assigned) and the server's margin (written here). A quiet
// arrival waits on the list until the running worker stops (its successor pick drains the list first, H1) or the
// server looks for another reason (its armed slice, a wake).
//
//   Q1 the server writes its margin before it sleeps (S6): the policy's QuietMargin, or 0 when nothing runs (and it
//      does not sleep open: O3), the policy is not a shipped one, or another server is idle. Then, after a full fence, it looks at its list
//      once more: an arrival that read the old margin pushed before that look (its push is a full fence too), so
//      the server sees it and takes another turn instead of sleeping.
//   Q2 a server that finds nothing to run marks itself idle, then zeroes every other server's margin, then
//      drains their lists before it tries to steal (StealFromBusyServer): an arrival that judged itself quiet on
//      a busy server before the zeroing is on that list by then, and from then on arrivals wake their server,
//      which hands work to idle servers (S5). A server writing its margin (Q1) reads the idle marks after its
//      write: either it sees the idle mark, or the zeroing comes after its write.
//   Q3 a switch to a successor moves the record before the kernel half looks at the list again (K2, K3s): an
//      arrival compares its rank with whoever the record names when it reads it.
//   Q4 Q2's zeroing speaks of this moment, and an arrival comes a blocking call later: by then the idle server has
//      most often been claimed or picked again, and our margin stays 0 until we next sleep (with direct successors,
//      seldom). A worker choosing the OS class to wait in (B1) guesses by the margin the policy last gave us, idle
//      server or not; the kernel half still judges by the published 0 and wakes us, and that turn publishes the
//      margin again (or hands the arrival to a server still idle).
internal sealed unsafe partial class Server
{
    // Q4: the policy's margin at our last publication for a running worker, whatever Q2 made us publish. Written by
    // the server thread, read by workers choosing their OS class: a stale read costs a wrong guess, nothing more.
    private byte _marginHint;

    /// <summary>
    /// Q1: publishes the margin for the coming sleep: for a running worker (<paramref name="forAWorker"/>), or for the
    /// one that may claim us while we sleep open (O1). False if something arrived meanwhile (the list is not empty):
    /// the caller takes another turn instead of sleeping.
    /// </summary>
    private bool PublishQuietMargin(bool forAWorker)
    {
        byte margin = 0;
        if (forAWorker && _scheduler.Options.QuietArrivals && _policy is IQuietArrivals quiet)
        {
            lock (_queueLock)
            {
                margin = quiet.QuietMargin(_sliceArmed);
            }

            // Q4: kept even when Q2 zeroes what we publish below.
            Volatile.Write(ref _marginHint, margin);
        }

        // Q2's other side: an idle server wants every arrival seen, so that we hand it work. Read again after our
        // write below, in case it went idle meanwhile.
        if (margin != 0 && _scheduler.Options.Balance && AnyOtherServerIdle())
        {
            margin = 0;
        }

        byte old = StateWord.ArrivalOf(Self);
        if (old == 0 && margin == 0)
        {
            return true; // nothing was quiet, and nothing will be
        }

        // A CAS, or a fence: the full fence between our margin and the reads below.
        if (old != margin)
        {
            StateWord.SetArrival(Self, margin);
        }
        else
        {
            Interlocked.MemoryBarrier();
        }

        if (margin != 0 && _scheduler.Options.Balance && AnyOtherServerIdle())
        {
            StateWord.SetArrival(Self, 0);
        }

        // Whatever arrived while the old margin held is seen now, or judged itself by the new one.
        return Volatile.Read(ref Self->RunnableWorkersPtr) == 0;
    }

    /// <summary>Q2: every other server wakes for its arrivals from now on (this one is idle and wants them).</summary>
    private void RevokeQuietArrivals()
    {
        // Our idle mark before the zeroing: a full fence, against Q1's write-then-read on the other side.
        Interlocked.MemoryBarrier();
        foreach (var other in _scheduler.Servers)
        {
            if (!ReferenceEquals(other, this) && StateWord.ArrivalOf(other.Self) != 0)
            {
                StateWord.SetArrival(other.Self, 0);
            }
        }
    }

    private bool AnyOtherServerIdle() => _scheduler.IdleServerBesides(this) is not null;

    /// <summary>The margin this server published for its arrivals (Q1): 0 when every arrival wakes it.</summary>
    internal byte QuietMargin => StateWord.ArrivalOf(Self);

    /// <summary>
    /// Q4: the margin this server's arrivals will most likely be judged by — the published one, or, while Q2 holds it
    /// at 0, the one the policy last gave for a running worker: a blocking call later the server that idled has most
    /// likely found work again. A hint for the OS class a worker waits in (B1), never for the kernel half, which
    /// judges by the published margin alone.
    /// </summary>
    /// <remarks>
    /// Reading Q2's zero as a forecast (SCHED_OTHER while another server idles) made one region in a hundred of
    /// <c>umcg run mixed</c> wait under SCHED_OTHER, and each such arrival preempted the worker running on its CPU
    /// to queue itself; docs/scheduling.md, Q4. A wrong guess the other way makes an arrival meant for a server
    /// still idle wait for the running worker's next switch or for the OS's preemption.
    /// </remarks>
    internal byte ExpectedQuietMargin
    {
        get
        {
            byte published = QuietMargin;
            return published != 0 ? published : Volatile.Read(ref _marginHint);
        }
    }

    /// <summary>The rank <paramref name="worker"/>'s arrivals carry on this server (its policy's, 0 for a policy the library does not ship).</summary>
    internal byte RankOf(WorkerThread worker)
    {
        if (_policy is not IQuietArrivals quiet)
        {
            return 0;
        }

        lock (_queueLock)
        {
            return quiet.RankOf(worker);
        }
    }
}
