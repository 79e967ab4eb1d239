using Umcg.Abi;

namespace Umcg.Kernel.Detection;

/// <summary>
/// The switch-event detector's look at one running worker: its newest context-switch record. A switch-out
/// that was not a preemption, older than the threshold and still the newest record, is a sleep in the
/// kernel that began exactly then.
/// </summary>
/// <remarks>
/// <para>Preempted switch-outs (the thread stays runnable: time slices, CPU-bound code) never count.</para>
/// <para>The worker's own UMCG waits are non-preempted switch-outs too. While it waits its state is
/// RUNNABLE and the detector does not look at it; but between the waker's RUNNABLE → RUNNING and the moment
/// the worker is back on a CPU, a RUNNING worker's newest record is that switch-out. Such a wait stamped
/// runnable_ts after the worker last came on a CPU, so a runnable_ts later than the switch-in before the
/// switch-out clears it here, without a system call. Whatever slips past (a worker preempted between its
/// stamp and its park) is caught by the check on the thread itself before any mark.</para>
/// <para>The rule holds only for a switch-out before the worker came back from that UMCG call: a worker that
/// unblocked onto a server asleep open (K12) stamped runnable_ts on its CPU and ran on without a switch, so its
/// next sleep follows a switch-in older than the stamp, and it is a sleep like any other.</para>
/// </remarks>
internal static class SwitchEventProbe
{
    public static Verdict Examine(SwitchRing ring, KernelTask task, ulong runnableTs, long resumedAtNs, long now, long thresholdNs)
    {
        if (!ring.TryPeek(out var newest, out var previous) || !newest.IsSleep)
        {
            return Verdict.Clear;
        }

        // Perf stamps CLOCK_MONOTONIC; runnable_ts is on the worker's registered clock, the resume stamp on CLOCK_MONOTONIC.
        if (task.Clock == ClockId.Monotonic && previous is { Out: false } switchIn && (long)runnableTs > switchIn.TimeNs
            && newest.TimeNs <= resumedAtNs)
        {
            return Verdict.Clear;
        }

        long due = newest.TimeNs + thresholdNs;
        return now >= due ? Verdict.Blocked(newest.TimeNs, bySwitchEvents: true) : Verdict.Pending(due);
    }
}
