using Umcg.Abi;

namespace Umcg.Kernel;

// Workers running in the background: K9 demote and K10 adopt, an extension of the RFC for preemption without
// safepoints (docs/preemption.md, docs/conformance.md). A server may take its CPU back from a worker that was asked
// to give way (TF_PREEMPT) and did not: the worker keeps running — user space lowers its OS thread's priority so that
// the CPU goes to the next worker — but it no longer holds the server's record.
//
// Invariant I1′ (I1 with the background): a worker is RUNNING without TF_BACKGROUND only while its server's record
// names it; a RUNNING worker with TF_BACKGROUND is named by no record.
//
// The linearisation point of leaving the background is the CAS that takes the flag off the worker's word: its own
// transition off RUNNING, a wake that runs it (K6: after a Wait from the background a raw switch may name it), or the
// adoption's CAS. Every such transition clears the kernel-only mark with the flag (UpdateState, Adopt); the worker was
// in the background iff the word it replaced had TF_BACKGROUND and its mark was set (a flag user code wrote, without
// the mark, is ignored). A background worker's own transitions then
// hold no record: a block (K3) or an exit (K7) switches to nobody and wakes nobody (a block leaves next_tid as it was);
// a safepoint (K5) or a Wait (K2) queues it like an unblock (K4, quiet arrivals included); a Wait that names a
// successor is refused with EAGAIN before any side effect.
public sealed unsafe partial class UmcgKernel
{
    /// <summary>
    /// K9: the calling server takes its CPU back from the worker <paramref name="tid"/>, which its record names and
    /// which was asked to give way (<see cref="TaskFlags.Preempt"/>) but has not: the worker goes on RUNNING in the
    /// background (<see cref="TaskFlags.Background"/>), the server's record and next_tid are emptied, and the server
    /// may run another worker at once. An extension of the RFC.
    /// </summary>
    /// <returns>
    /// Ok; EINVAL if the caller is not a server or the worker is not its; ESRCH if <paramref name="tid"/> names no
    /// task; EAGAIN if the worker is not running for the caller with TF_PREEMPT set (it gave way, blocked or left
    /// first: it keeps or releases the record itself).
    /// </returns>
    public Errno Demote(int tid)
    {
        using var section = BlockGrace.Enter();
        var r = ResolveWorkerOfCaller(tid, out var server, out var worker);
        if (r != Errno.Ok)
        {
            return r;
        }

        uint old = Volatile.Read(ref *worker.StateWord);
        const uint asked = (uint)TaskState.Running | (uint)TaskFlags.Preempt;
        if ((old & (UmcgConstants.StateMask | UmcgConstants.FlagsMask)) != asked || !server.Slot.Holds(tid))
        {
            return Errno.EAGAIN;
        }

        // Mark first, flag second: a transition that replaces a word with the flag always finds the mark. Claimed by
        // CAS: a worker that just left the background (its CAS took the flag off) may not have cleared its mark yet, and
        // if it could be run and demoted again meanwhile (a raw switch to it), its late clear would wipe the new mark.
        if (Interlocked.CompareExchange(ref worker.BackgroundMark, 1, 0) != 0)
        {
            return Errno.EAGAIN;
        }

        // The one CAS that decides against the worker's own transitions off RUNNING: whichever comes first wins. If it
        // came first it still holds the record and releases it itself; the mark was never read (no flag).
        if (Interlocked.CompareExchange(ref *worker.StateWord, old | (uint)TaskFlags.Background, old) != old)
        {
            Volatile.Write(ref worker.BackgroundMark, 0);
            return Errno.EAGAIN;
        }

        // From here on the worker touches no record. Mirror before record, as every release does: while the record
        // still names the worker no start can write a successor's mirror for us to wipe. The record's CAS fails only if
        // a removal of the worker released it meanwhile.
        Interlocked.CompareExchange(ref *server.NextTidWord, 0, RunningSlot.Running(tid).Raw);
        server.Slot.TryRelease(tid);
        return Errno.Ok;
    }

    /// <summary>
    /// K10: the calling server runs its background worker <paramref name="tid"/> again in the foreground: the record
    /// names it (next_tid mirrors it with <see cref="UmcgConstants.TidRunning"/>), and TF_BACKGROUND and TF_PREEMPT are
    /// cleared. No wake: the worker never stopped running. An extension of the RFC.
    /// </summary>
    /// <returns>
    /// Ok; EINVAL if the caller is not a server or the worker is not its; ESRCH if <paramref name="tid"/> names no
    /// task; EBUSY if the caller's record names a worker already; EAGAIN if the worker is not in the background (it
    /// left it by itself first: it is queued, blocked or gone).
    /// </returns>
    public Errno Adopt(int tid)
    {
        using var section = BlockGrace.Enter();
        var r = ResolveWorkerOfCaller(tid, out var server, out var worker);
        if (r != Errno.Ok)
        {
            return r;
        }

        uint old = Volatile.Read(ref *worker.StateWord);
        if ((old & UmcgConstants.StateMask) != (uint)TaskState.Running || (old & (uint)TaskFlags.Background) == 0
            || Volatile.Read(ref worker.BackgroundMark) == 0)
        {
            return Errno.EAGAIN;
        }

        // Record first, flag second: the moment the flag goes the worker is a foreground one, whose next transition
        // releases the record — which must name it by then.
        if (!server.Slot.TryStart(tid))
        {
            return Errno.EBUSY;
        }

        uint marked = RunningSlot.Running(tid).Raw;
        Volatile.Write(ref *server.NextTidWord, marked);
        uint adopted = old & ~(uint)(TaskFlags.Background | TaskFlags.Preempt);
        if (Interlocked.CompareExchange(ref *worker.StateWord, adopted, old) != old)
        {
            // The worker left the background first (its transition cleared its mark and touched no record): the record
            // is ours to clear again, mirror first.
            Interlocked.CompareExchange(ref *server.NextTidWord, 0, marked);
            server.Slot.TryRelease(tid);
            return Errno.EAGAIN;
        }

        Volatile.Write(ref worker.BackgroundMark, 0);
        return Errno.Ok;
    }

    /// <summary>
    /// Whether the worker whose transition replaced <paramref name="replaced"/> was in the background at that instant.
    /// UpdateState cleared its mark with the flag, in the same step, and reports a flag without the mark (written by
    /// user code) as no flag.
    /// </summary>
    private static bool LeftBackground(uint replaced) => (replaced & (uint)TaskFlags.Background) != 0;

    /// <summary>Whether <paramref name="worker"/> is in the background now (its flag and its mark).</summary>
    private static bool IsInBackground(KernelTask worker) =>
        (Volatile.Read(ref *worker.StateWord) & (uint)TaskFlags.Background) != 0 && Volatile.Read(ref worker.BackgroundMark) != 0;

    /// <summary>The calling server and its worker <paramref name="tid"/>, for K9 and K10.</summary>
    private Errno ResolveWorkerOfCaller(int tid, out KernelTask server, out KernelTask worker)
    {
        server = Current!;
        worker = null!;
        if (server is null || server.IsWorker)
        {
            return Errno.EINVAL;
        }

        if (!_tasks.TryGet((uint)tid, out worker))
        {
            return Errno.ESRCH;
        }

        return worker.IsWorker && Volatile.Read(ref worker.Block->ServerTid) == (uint)server.Tid ? Errno.Ok : Errno.EINVAL;
    }
}
