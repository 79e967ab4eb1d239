using Umcg.Abi;

namespace Umcg.Kernel;

// K12, direct start on an open server: an extension of the RFC. A worker that becomes RUNNABLE (K4, or K11u on its
// behalf) while its server sleeps with nothing to run is, in the RFC, pushed on the server's list and the server woken,
// which wakes the worker in turn: for a worker that unblocks itself, two switches (to the server and back) before it
// runs again on the CPU it already holds; for a pooled worker, two wakes where one would do. Here a server that goes
// to sleep with nothing to run may open itself to arrivals, and the first arrival takes its record and runs at once.
//
//   K12o open (user space, the server): next_tid = TID_OPEN (Server.OpenStart.cs), written only over 0 and only while
//        the record is empty and nothing is picked, just before the server's Wait; taken back (CAS TID_OPEN → 0) as
//        soon as the Wait returns. A failed take-back means an arrival claimed the server: next_tid names it running.
//   K12c claim (TryClaimOpenServer), by the arriving worker or its unblocker, with the worker RUNNABLE and on no list:
//        record Empty → W first (ServerSlot.TryStart), then the mirror TID_OPEN → W|TID_RUNNING by CAS. The mirror's
//        CAS is the claim: it succeeds only while the offer stands, and for one arrival. If the record was taken (the
//        server started a worker, a release is midway) or the offer is gone, nothing was claimed: the record is given
//        back and the arrival takes K4's way (push, wake).
//   K12r run: RUNNABLE → RUNNING. The worker that unblocked itself returns at once, on its server's CPU (it keeps the
//        CPU it holds: no switch); a pooled worker is moved to the server's CPU and woken once (K6).
//   K12l leave open (LeaveServerOpen), by a worker that blocks (K3) with next_tid = TID_OPEN because user space found
//        nothing for its server to run: the mirror W|TID_RUNNING → TID_OPEN by CAS, then the record W → Empty, then a
//        look at the list and at the mirror — an entry there (an arrival that was quiet against W) wakes the server, as
//        K3 would, and so does a mirror no longer TID_OPEN (the server took the offer back between the two steps); else
//        no wake. The server, asleep since its record named W, sleeps on open; next_tid is consumed. A mirror user code
//        overwrote fails the CAS: the block then releases and wakes as K3 does.
//
// Why it is safe. K12l is a release in I3's order (mirror, then record): a claim that reads TID_OPEN before the record
// is free fails its TryStart and takes K4's way, waking the server. A server awake meanwhile, which read the slot
// naming W, sleeps in K1 (TID_OPEN is no pick) and takes the offer back as its Wait returns (O2), whoever opened it.
// One that read TID_OPEN takes it back at once and may write a pick before the record is free: its K1 then finds the
// record taken, starts nobody and sleeps. The release's look at the mirror, after its CAS, finds no TID_OPEN there
// and wakes it; a take-back that comes after that look reads the record free in its own K1.
// I1 and I3 hold as for K1: the record names W before its mirror does, and W is RUNNING only after
// both. The server never writes next_tid while its offer stands, and takes the offer back before it reads next_tid
// again, so the claim's CAS cannot overwrite a pick, a running worker or another claim; a claim of a withdrawn offer
// fails. A record taken for a claim that then fails is held only by the claimer, who gives it back and wakes the server
// (K4's wake: the record is empty again, so the arrival is never quiet): a server whose own start found that record
// taken and slept is woken to start its pick. The server sleeps on after a claim — its record names a running worker —
// and is woken by that worker's release, as after K1. While the record is empty K4q wakes the server for every
// arrival, whatever its margin; once a claim fills it, arrivals judge themselves against the claimer, as against any
// worker the server started (user space publishes the margin for that: Server.OpenStart.cs, O3).
public sealed unsafe partial class UmcgKernel
{
    /// <summary>
    /// K12c: claims <paramref name="server"/>, open with nothing to run, for <paramref name="worker"/> (RUNNABLE, on no
    /// list): the record names the worker and next_tid mirrors it running. False if the server is not open or another
    /// start came first (nothing changed then). The caller makes the worker RUNNING next (K12r).
    /// </summary>
    private static bool TryClaimOpenServer(KernelTask worker, KernelTask server)
    {
        uint* mirror = server.NextTidWord;
        if (Volatile.Read(ref *mirror) != UmcgConstants.TidOpen || !server.Slot.TryStart(worker.Tid))
        {
            return false;
        }

        // Record first, then the mirror by CAS from the offer: the one claim. A server that took its offer back (to
        // pick, to leave) or another arrival that claimed first leaves another value here.
        if (Interlocked.CompareExchange(ref *mirror, RunningSlot.Running(worker.Tid).Raw, UmcgConstants.TidOpen) == UmcgConstants.TidOpen)
        {
            Volatile.Write(ref worker.StartedDirectly, 1);
            return true;
        }

        server.Slot.TryRelease(worker.Tid);
        return false;
    }

    /// <summary>
    /// K12 for a worker that unblocks itself (K4): RUNNABLE → RUNNING on an open server, keeping the CPU it holds (the
    /// caller follows the server's CPU once out of its read section). False if the server is not open: the caller pushes
    /// and wakes as K4 does. True with <paramref name="result"/> Ok (it runs) or the error that removed it (its word was
    /// scribbled between its unblock and its start).
    /// </summary>
    private bool TryStartSelfOnOpenServer(KernelTask worker, KernelTask server, out Errno result)
    {
        result = Errno.Ok;
        if (!TryClaimOpenServer(worker, server))
        {
            return false;
        }

        if (UpdateState(worker, TaskState.Runnable, TaskState.Running) != Errno.Ok)
        {
            // The removal releases the record it finds naming the worker and wakes the server.
            result = Kill(worker, Errno.EINVAL, "its state word was set by user code while it unblocked");
        }

        return true;
    }

    /// <summary>
    /// K12 for a pooled worker an unblocker queued (K11u): the worker is moved to the server's CPU and woken once, to
    /// run. False if the server is not open: the caller pushes and wakes as K11u does.
    /// </summary>
    private bool TryStartIdleOnOpenServer(KernelTask worker, KernelTask server)
    {
        if (!TryClaimOpenServer(worker, server))
        {
            return false;
        }

        MoveToServerCpu(worker, server);
        if (WakeTask(worker) != Errno.Ok)
        {
            // Not RUNNABLE any more (its word scribbled while it slept): the record goes back (mirror first, I3) and the
            // server looks again; the sleeper is woken to find its word wrong, and its wait removes it.
            if (ReleaseSlot(worker, server))
            {
                WakeServer(server);
            }

            Parker.Unpark(worker.StateWord);
        }

        return true;
    }

    /// <summary>
    /// Whether the calling worker's last start was its own claim of an open server (K12), not a server's pick or a
    /// switch: true once per such start. User space then does for itself what the server does for a worker it picks
    /// (the scheduler counts the start, restores a demoted worker, tells its detector).
    /// </summary>
    public bool TakeDirectStart() =>
        Current is { IsWorker: true } self && Volatile.Read(ref self.StartedDirectly) != 0 && Interlocked.Exchange(ref self.StartedDirectly, 0) != 0;

    /// <summary>
    /// K12l: the blocking <paramref name="worker"/> frees its server's record into an open slot instead of waking the
    /// server. False if the record does not name it or user code overwrote the mirror: the caller releases as K3 does.
    /// </summary>
    private bool LeaveServerOpen(KernelTask worker, KernelTask server)
    {
        if (!server.Slot.Holds(worker.Tid))
        {
            return false;
        }

        // Mirror first (I3): while the record still names us a claim fails its TryStart and wakes the server instead.
        uint running = RunningSlot.Running(worker.Tid).Raw;
        if (Interlocked.CompareExchange(ref *server.NextTidWord, UmcgConstants.TidOpen, running) != running)
        {
            return false;
        }

        AfterLeaveOpenMirrorForTests?.Invoke(worker.Tid);

        // Cannot fail: only the record's holder (us) or a removal of us releases it, and we are here.
        server.Slot.TryRelease(worker.Tid);

        // An arrival that judged itself quiet against us pushed before it read the record (K4q): after our CAS above,
        // either we see its entry here and wake the server, or its read found the record empty, and it woke it.
        // And a server awake between our two steps: it may have taken the offer back (O2), picked, and found the record
        // still naming us in its Wait (K1), which then starts nobody and sleeps until a wake. After our release (a full
        // fence) the mirror still reads TID_OPEN only if that take-back is yet to come, and its Wait will then find the
        // record empty; anything else there (its pick, 0, a claim that came after our release) gets the wake.
        if (Volatile.Read(ref server.Block->RunnableWorkersPtr) != 0 || Volatile.Read(ref *server.NextTidWord) != UmcgConstants.TidOpen)
        {
            WakeServer(server);
        }

        return true;
    }
}
