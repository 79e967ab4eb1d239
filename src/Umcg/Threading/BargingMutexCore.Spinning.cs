using Umcg.Abi;
using Umcg.Scheduling;

namespace Umcg.Threading;

// MutexHandOff.Barging's brief spin before parking: a lock held by a worker that is running on another server
// is likely to be released within a critical section's time, which is far less than a park and a switch.
internal sealed partial class BargingMutexCore
{
    // Rounds of Thread.SpinWait(1, 2, 4, 8, 8, …): some 50 units, a few µs on today's CPUs, which is less than
    // a park and a switch back. Each round first checks that spinning still makes sense.
    private const int SpinRounds = 10;
    private const int MaxSpinPerRound = 8;

    private static readonly bool s_multiCore = Environment.ProcessorCount > 1;

    /// <summary>
    /// Spins for the lock while its owner is a worker RUNNING on another server, for a bounded time. Only a
    /// worker spins: a plain thread cannot prove that the owner's control block is still allocated (a worker can:
    /// see <see cref="OwnerRunsElsewhere"/>), and plain threads do not spin in this library.
    /// </summary>
    /// <returns>True if the caller took the lock.</returns>
    private bool SpinWhileOwnerRuns(WorkerThread? self, bool woken)
    {
        if (self is null || !s_multiCore)
        {
            return false;
        }

        for (int round = 0; round < SpinRounds; round++)
        {
            // Starvation mode hands the lock over: nothing to win by spinning.
            if (State.IsStarving || !OwnerRunsElsewhere(self))
            {
                return false;
            }

            Thread.SpinWait(Math.Min(1 << round, MaxSpinPerRound));
            if (TryBarge(woken))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether the owner is a worker that is RUNNING, on a server whose CPU the caller does not hold (a worker on
    /// the caller's own server cannot run while the caller spins there).
    /// </summary>
    /// <remarks>
    /// The owner must belong to the caller's scheduler: a scheduler frees its workers' control blocks only at
    /// shut-down, after all its worker threads have exited, and the caller is one of them. So the block read
    /// here is allocated even if <see cref="MutexCore.OwnerWorker"/> is stale (the worker then released the lock, and its
    /// block may serve another worker: the answer is a wrong hint, which costs at most a bounded spin).
    /// </remarks>
    private unsafe bool OwnerRunsElsewhere(WorkerThread self)
    {
        var owner = OwnerWorker;
        return owner is not null
            && ReferenceEquals(owner.Scheduler, self.Scheduler)
            && (self.BlockingDepth != 0 || !ReferenceEquals(owner.Server, self.Server))
            && StateWord.StateOf(owner.Block.Task) == TaskState.Running;
    }
}
