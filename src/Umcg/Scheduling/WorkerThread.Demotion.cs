using Umcg.Abi;
using Umcg.Scheduling.Demotion;

namespace Umcg.Scheduling;

// A worker's side of preemption by demotion (D1–D4 in Server.Demotion.cs): what its OS thread was before its server
// demoted it, and the restoration — by whoever runs it in the foreground again.
public sealed unsafe partial class WorkerThread
{
    // What Demote found on the thread, to put back. Written by the server (D2) while _demoted is 0, published by the
    // volatile write of _demoted; read only by the one restorer whose exchange took _demoted from 1 to 0.
    private DemotedThread _demotedThread;

    // 1 while the thread runs lowered and may be restored. Taken (exchanged to 0) by exactly one restorer: the
    // server that picks or adopts the worker, a worker that hands it the CPU, the worker itself once its block took it
    // out of the background, or the server that demoted it and found it already out (see NoteDemoted).
    private int _demoted;

    /// <summary>
    /// A thread demoted where the OS lets nobody restore it (<see cref="DemotionMode.OneWay"/>): it runs on lowered
    /// and leaves the pool when its body ends, so that a body that never overstayed does not inherit its priority.
    /// </summary>
    internal bool RunsDemotedForGood { get; private set; }

    // Set by a waiter that parks for a Umcg lock this worker holds; cleared when this worker releases a lock to its
    // waiters. While set, the server does not demote it (D1), and adopts it first if it is in the background (D4).
    // A worker holding two awaited locks is cleared by its first such release: a hint, not a count.
    private volatile bool _holdsAwaitedLock;

    /// <summary>Whether a waiter waits for a Umcg lock this worker holds (see <see cref="OnLockAwaited"/>).</summary>
    internal bool HoldsAwaitedLock => _holdsAwaitedLock;

    /// <summary>
    /// A waiter is about to park for a Umcg lock this worker holds: not demoted from now on, and if it runs in the
    /// background its server adopts it first, ahead of the queue — else the waiter (maybe of high priority) would wait
    /// for a lowered thread behind every other worker: a priority inversion.
    /// </summary>
    internal void OnLockAwaited()
    {
        _holdsAwaitedLock = true;
        if (IsInBackground)
        {
            Server.AdoptFirst(this);
        }
    }

    /// <summary>This worker released a Umcg lock to its waiters.</summary>
    internal void OnAwaitedLockReleased() => _holdsAwaitedLock = false;

    /// <summary>Whether the kernel half has this worker in the background (TF_BACKGROUND): it holds no server record.</summary>
    internal bool IsInBackground => (StateWord.FlagsOf(Block.Task) & TaskFlags.Background) != 0;

    /// <summary>Whether the thread runs lowered now (restorable or not).</summary>
    internal bool IsDemoted => Volatile.Read(ref _demoted) != 0 || RunsDemotedForGood;

    /// <summary>D2, on the server: the thread was lowered as <paramref name="demoted"/> says, for its time in the background.</summary>
    internal void NoteDemoted(in DemotedThread demoted, DemotionMode mode) => NoteLowered(demoted, mode, static w => w.IsInBackground);

    /// <summary>
    /// A worker a detector marked blocked runs on without reaching a safepoint, beside its server's next worker (see
    /// <see cref="UmcgScheduler.LowerRunningOn"/>): lowered like a background worker, and restored the same way, by
    /// whoever runs it in the foreground again after its unblock.
    /// </summary>
    internal void NoteLoweredWhileBlocked(in DemotedThread demoted, DemotionMode mode) =>
        NoteLowered(demoted, mode, static w => StateWord.StateOf(w.Block.Task) == TaskState.Blocked);

    /// <summary>
    /// Records a lowering. <paramref name="stillOut"/> says whether the worker is still out of the foreground (in the
    /// background; marked blocked): if not, it may already run again, and it is restored here.
    /// </summary>
    private void NoteLowered(in DemotedThread demoted, DemotionMode mode, Func<WorkerThread, bool> stillOut)
    {
        if (mode == DemotionMode.OneWay)
        {
            RunsDemotedForGood = true;
            return;
        }

        _demotedThread = demoted;

        // Full fence, then the look: against a restorer that took the worker back to the foreground (its CAS on the
        // state word) and then read _demoted. Either it sees 1 and restores, or we see it back and restore here — a
        // thread lowered after it came back would run on lowered with nobody to put it back.
        Interlocked.Exchange(ref _demoted, 1);
        if (!stillOut(this))
        {
            RestoreIfDemoted();
        }
    }

    /// <summary>A thread that runs demoted for good leaves the pool when its body ends (counted).</summary>
    private bool RetiresAfterBody()
    {
        if (!RunsDemotedForGood)
        {
            return false;
        }

        Scheduler.Stats.CountRetiredDemoted();
        return true;
    }

    /// <summary>
    /// D4: puts the thread back at its own priority if it runs lowered; called by whoever is about to run it in the
    /// foreground (or by the worker as it blocks, so that its wake-up is not starved). Exactly one caller restores.
    /// </summary>
    internal void RestoreIfDemoted()
    {
        if (Volatile.Read(ref _demoted) == 0 || Interlocked.Exchange(ref _demoted, 0) == 0)
        {
            return;
        }

        Scheduler.Demotion!.Restore(_demotedThread); // counted there, refusals included
    }
}
