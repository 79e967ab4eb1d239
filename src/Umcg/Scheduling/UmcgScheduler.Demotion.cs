using Umcg.Abi;
using Umcg.Kernel;

namespace Umcg.Scheduling;

// Demotion beyond the server loop: a worker a detector marked blocked that runs on without a safepoint.
public sealed partial class UmcgScheduler
{
    /// <summary>
    /// The detector marked <paramref name="tid"/> blocked, and it has since run on for a threshold's worth of CPU without
    /// reaching a safepoint (code that has none, back from a wait the detector saw: a page fault, a runtime lock). Its
    /// server runs another worker meanwhile, so two threads share the server's CPU at the same priority — as a worker its
    /// server demoted would, unlowered. Its thread is lowered the same way (on the detector's thread), and whoever runs it
    /// in the foreground after its unblock restores it (D4).
    /// </summary>
    internal unsafe void LowerRunningOn(int tid)
    {
        var demotion = Demotion;
        // Still blocked by the detector's mark, not by a region of its own: a worker inside Blocking() sleeps in the
        // kernel for real, and lowered it would wait behind every thread of its CPU to come back.
        if (demotion is null || !TryGetWorker(tid, out var worker) || worker.IsDemoted
            || StateWord.StateOf(worker.Block.Task) != TaskState.Blocked
            || !Kernel.Tasks.TryGet((uint)tid, out var task) || Volatile.Read(ref task.BlockMark) != KernelTask.BlockMarks.ByDetector)
        {
            return;
        }

        var lowered = demotion.Demote(tid);
        if (lowered.IsDemoted)
        {
            worker.NoteLoweredWhileBlocked(lowered, demotion.Mode);
            Stats.CountLoweredRunningOn();
        }
    }
}
