using Umcg.Kernel.Native;

namespace Umcg.Scheduling;

/// <summary>
/// The OS scheduling class of worker threads (see <see cref="UmcgSchedulerOptions.BatchWorkerThreads"/> and
/// <see cref="UmcgSchedulerOptions.BatchWhileBlocked"/>). Under <c>SCHED_OTHER</c> a thread that wakes may preempt the
/// running one at once; a worker handing its CPU to its successor wakes that successor a moment before it blocks
/// itself, and a worker leaving a blocking region wakes on its server's CPU only to queue itself, so each would cost
/// the running worker an involuntary switch. A thread under <c>SCHED_BATCH</c> never preempts on wakeup: it waits
/// for the running thread's switch (or its tick). Both are the fair class at the same nice: the share of the CPU is
/// the same, only the wake-up differs.
/// </summary>
internal static class WorkerThreadPolicy
{
    /// <summary>
    /// Moves the calling thread from <c>SCHED_OTHER</c> to <c>SCHED_BATCH</c> at its nice and with the time slice
    /// <paramref name="sliceNs"/> (0: the OS's; see <see cref="ThreadSlice"/>); true if it runs under <c>SCHED_BATCH</c> now.
    /// </summary>
    public static bool RunAsBatch(long sliceNs) => Switch(LinuxSyscalls.SchedOther, LinuxSyscalls.SchedBatch, sliceNs);

    /// <summary>Moves the calling thread from <c>SCHED_BATCH</c> back to <c>SCHED_OTHER</c>, as <see cref="RunAsBatch"/>; true if it runs under <c>SCHED_OTHER</c> now.</summary>
    public static bool RunAsNormal(long sliceNs) => Switch(LinuxSyscalls.SchedBatch, LinuxSyscalls.SchedOther, sliceNs);

    private static bool Switch(int from, int to, long sliceNs) =>
        OperatingSystem.IsLinux() && LinuxSyscalls.SwitchFairClass(from, to, sliceNs);
}
