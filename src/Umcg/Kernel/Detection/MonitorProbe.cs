namespace Umcg.Kernel.Detection;

/// <summary>
/// The monitor's look at one running worker: is its thread asleep in the kernel (its
/// <c>/proc/self/task/TID/syscall</c> names a call instead of "running"), and has it stayed asleep,
/// without being put on a CPU even once, since the detector first saw it so?
/// </summary>
/// <remarks>
/// A sample cannot tell when a sleep began, so the monitor times it from its first sighting: a sleep is
/// marked between one threshold and one threshold plus one poll interval after it began. The run count of
/// <c>schedstat</c> proves the sleep unbroken: a thread that woke and slept again between two polls (many
/// short waits, or a garbage collection that suspended a compute loop) has been put on a CPU meanwhile and
/// starts over. An unchanged runnable_ts proves the worker went through no UMCG transition meanwhile.
/// </remarks>
internal static unsafe class MonitorProbe
{
    public static Verdict Examine(WatchedWorker w, KernelTask task, ulong runnableTs, long now, long thresholdNs)
    {
        // A RUNNING worker asleep on its own state word is in its own UMCG wait with a wake on its way.
        if (!w.Proc.TryReadSyscall(out var sample) || !sample.Asleep || sample.IsFutexWaitOn((ulong)task.StateWord)
            || !w.Proc.TryReadSchedstat(out _, out long runs))
        {
            w.MonitorPending = false;
            return Verdict.Clear;
        }

        if (w.MonitorPending && w.MonitorRuns == runs && w.MonitorRunnableTs == runnableTs)
        {
            long due = w.MonitorSinceNs + thresholdNs;
            return now >= due ? Verdict.Blocked(w.MonitorSinceNs, bySwitchEvents: false) : Verdict.Pending(due);
        }

        w.MonitorPending = true;
        w.MonitorSinceNs = now;
        w.MonitorRuns = runs;
        w.MonitorRunnableTs = runnableTs;
        return Verdict.Pending(now + thresholdNs);
    }
}
