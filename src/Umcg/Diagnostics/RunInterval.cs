using Umcg.Abi;

namespace Umcg.Diagnostics;

/// <summary>An interval during which a worker ran for a server (its server's running slot named it).</summary>
/// <param name="WorkerTid">The worker.</param>
/// <param name="ServerTid">The server it ran for.</param>
/// <param name="StartNs">When it started running (monotonic clock, ns).</param>
/// <param name="EndNs">When it stopped, or the end of the trace for <paramref name="IsOpen"/>.</param>
/// <param name="Name">The name of the body it ran, if it has one.</param>
/// <param name="EndedIn">
/// What it stopped into: RUNNABLE (yielded, switched or preempted), BLOCKED (a blocking region, or a detector
/// blocked it), NONE (it left); RUNNING when <paramref name="IsOpen"/>.
/// </param>
/// <param name="IsOpen">Still running when the trace ended.</param>
public readonly record struct RunInterval(
    int WorkerTid, int ServerTid, long StartNs, long EndNs, string? Name, TaskState EndedIn, bool IsOpen)
{
    /// <summary>How long it ran, in nanoseconds.</summary>
    public long DurationNs => EndNs - StartNs;
}
