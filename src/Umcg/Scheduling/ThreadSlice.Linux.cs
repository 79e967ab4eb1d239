using Umcg.Kernel.Native;

namespace Umcg.Scheduling;

/// <summary>
/// The OS time slice of the scheduler's own threads (see <see cref="UmcgSchedulerOptions.OsTimeSlice"/>).
/// <para>
/// An M:N scheduler passes its CPU from thread to thread: a worker wakes its successor and sleeps, a worker leaving a
/// blocking region wakes to queue itself, a server wakes to ask for a give-way. Under EEVDF (Linux 6.6 and later) a
/// thread that wakes gets a deadline one slice after its eligible time. Beside a busy thread of another process —
/// whose default slice is 1.4 ms on 2 CPUs and 2.8 ms on 8 or more — a woken worker with the same slice is often picked only after that thread's
/// turn, so every hand-off can cost a whole OS slice, and a process of short hand-offs gets a fraction of its fair
/// share (the colocation workload beside <c>stress-ng</c>: 0.2 of the machine, requests waiting half a second). A
/// short slice (Linux 6.12 and later: <c>sched_attr.sched_runtime</c> under SCHED_OTHER and SCHED_BATCH) gives a woken
/// thread an early deadline: it is picked at once, and may preempt a thread with a longer slice on wake-up. The share
/// of the CPU does not change — the weight does not — only how finely it is handed out; but a worker's run beside a
/// busy process is then cut into turns of the slice, each followed by that process's turn, while no other worker of
/// its server may run: too short a slice slows compute-heavy work there (docs/scheduling.md, "The OS's slice"). No
/// privilege is needed.
/// </para>
/// </summary>
internal static class ThreadSlice
{
    /// <summary>
    /// Asks the OS for <paramref name="sliceNs"/> on the calling thread (0: the OS's own, whatever slice the thread
    /// was started with), keeping its policy and nice; nothing for a thread under another policy than SCHED_OTHER or
    /// SCHED_BATCH. Earlier kernels than 6.12 ignore the slice. Called once, as a server or worker thread starts.
    /// </summary>
    /// <returns>Whether the slice was asked (the kernel clamps it to 0.1–100 ms).</returns>
    public static bool Ask(long sliceNs)
    {
        if (!OperatingSystem.IsLinux()
            || LinuxSyscalls.GetSchedPolicy(0, out int policy, out int nice, out _) != 0
            || policy is not (LinuxSyscalls.SchedOther or LinuxSyscalls.SchedBatch))
        {
            return false;
        }

        return LinuxSyscalls.SetSchedPolicy(0, policy, nice, 0, sliceNs) == 0;
    }

    /// <summary>
    /// Asks <paramref name="sliceNs"/> on the calling thread if it differs from <paramref name="askedNs"/>, the slice
    /// the thread last asked (which it then becomes): the scheduler's slice changes with the machine's contention
    /// (<see cref="OsSliceGovernor"/>), and a thread follows it where it already makes a scheduling call.
    /// </summary>
    public static void AskIfChanged(ref long askedNs, long sliceNs)
    {
        if (sliceNs != askedNs)
        {
            askedNs = sliceNs;
            Ask(sliceNs);
        }
    }
}
