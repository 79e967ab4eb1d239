namespace Umcg.Kernel.Detection;

/// <summary>
/// Which detectors watch for blocking that nobody announced: a worker asleep in the kernel outside a
/// blocking region and outside the worker-aware primitives. Explicit regions are always honoured; these
/// detectors only add to them.
/// </summary>
[Flags]
public enum BlockingDetection
{
    /// <summary>No detector: a worker that blocks without saying so keeps its server's CPU until it wakes.</summary>
    None = 0,

    /// <summary>
    /// A monitor thread (Go's sysmon, .NET's gate thread) that reads a running worker's
    /// <c>/proc/self/task/TID/syscall</c> and <c>schedstat</c> and marks it blocked once it has been asleep
    /// in the kernel, without running, for longer than the threshold.
    /// </summary>
    Monitor = 1,

    /// <summary>
    /// Kernel context-switch records (<c>perf_event_open</c>, <c>PERF_RECORD_SWITCH</c>) on each worker
    /// thread: a switch-out that was not a preemption and does not come back within the threshold marks the
    /// worker blocked. Workers the kernel refuses to instrument are watched by the monitor instead.
    /// </summary>
    SwitchEvents = 2,

    /// <summary>Both detectors on every worker; whichever sees the block first marks it.</summary>
    Both = Monitor | SwitchEvents,
}
