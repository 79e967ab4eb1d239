using Umcg.Abi;

namespace Umcg.Kernel;

// Kick: make a task pass through NotifyResume.
public sealed unsafe partial class UmcgKernel
{
    /// <summary>
    /// Makes task <paramref name="tid"/> pass through <see cref="NotifyResume"/>: a RUNNING worker with
    /// <see cref="TaskFlags.Preempt"/> set goes RUNNABLE at its next safepoint; a sleeping task wakes and
    /// re-checks its state.
    /// </summary>
    /// <remarks>
    /// A kernel interrupts the target's CPU; here the target runs managed code that cannot be interrupted, so
    /// a running target acts on the kick at its next safepoint (every library call, leaving a blocking region,
    /// or an explicit safepoint) and a sleeping one is woken to re-check.
    /// </remarks>
    /// <returns>Ok; ESRCH if <paramref name="tid"/> is not a task of this kernel half (a value with bit 30 or 31 set never is); EINVAL for flags.</returns>
    public Errno Kick(uint flags, int tid)
    {
        using var section = BlockGrace.Enter();
        if (tid <= 0 || !_tasks.TryGet((uint)tid, out var task))
        {
            return Errno.ESRCH;
        }

        if (flags != 0)
        {
            return Errno.EINVAL;
        }

        Interlocked.Increment(ref task.Kicks);
        Parker.Unpark(task.StateWord);
        return Errno.Ok;
    }
}
