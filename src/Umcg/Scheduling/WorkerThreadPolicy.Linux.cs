using Umcg.Kernel.Native;

namespace Umcg.Scheduling;

/// <summary>
/// The OS scheduling class of worker threads (see <see cref="UmcgSchedulerOptions.BatchWorkerThreads"/>). Under
/// <c>SCHED_OTHER</c> a thread that wakes may preempt the running one at once; a worker handing its CPU to its
/// successor wakes that successor a moment before it blocks itself, and a worker leaving a blocking region wakes on
/// its server's CPU only to queue itself, so each would cost the running worker an involuntary switch. A thread
/// under <c>SCHED_BATCH</c> never preempts on wakeup: it waits for the running thread's switch (or its tick).
/// </summary>
internal static class WorkerThreadPolicy
{
    /// <summary>Moves the calling thread from <c>SCHED_OTHER</c> to <c>SCHED_BATCH</c> at its nice; false if it stays as it is.</summary>
    public static bool RunAsBatch()
    {
        if (!OperatingSystem.IsLinux()
            || LinuxSyscalls.GetSchedPolicy(0, out int policy, out int nice, out _) != 0
            || policy != LinuxSyscalls.SchedOther)
        {
            return false;
        }

        return LinuxSyscalls.SetSchedPolicy(0, LinuxSyscalls.SchedBatch, nice, 0) == 0;
    }
}
