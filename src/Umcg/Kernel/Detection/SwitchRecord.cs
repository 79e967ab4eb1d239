namespace Umcg.Kernel.Detection;

/// <summary>One PERF_RECORD_SWITCH of a worker thread: in or out, preempted or not, and when (CLOCK_MONOTONIC ns).</summary>
internal readonly record struct SwitchRecord(bool Out, bool Preempted, long TimeNs)
{
    /// <summary>Switched out without being preempted: the thread went to sleep in the kernel.</summary>
    public bool IsSleep => Out && !Preempted;
}
