using Umcg.Abi;

namespace Umcg.Diagnostics;

/// <summary>An interval a worker spent in one state.</summary>
/// <param name="WorkerTid">The worker.</param>
/// <param name="State">RUNNING, RUNNABLE (queued or named by a next_tid) or BLOCKED.</param>
/// <param name="StartNs">When the worker entered the state (monotonic clock, ns).</param>
/// <param name="EndNs">When it left it, or the end of the trace for <paramref name="IsOpen"/>.</param>
/// <param name="ServerTid">The server the worker belonged to.</param>
/// <param name="ActorTid">
/// The thread whose transition started the interval: the worker itself; for RUNNING, the server that picked it
/// or the worker that switched to it; for BLOCKED, another thread when a detector blocked it on its behalf.
/// </param>
/// <param name="IsIdle">
/// A BLOCKED interval of a worker thread with no body: it finished one and waits in the pool to be reused.
/// </param>
/// <param name="IsOpen">The worker was still in this state when the trace ended.</param>
/// <param name="IsBackground">
/// A RUNNING interval after its server demoted the worker: it ran on, lowered, while the server ran another worker
/// (docs/preemption.md). Not a run of the server's.
/// </param>
public readonly record struct StateInterval(
    int WorkerTid, TaskState State, long StartNs, long EndNs, int ServerTid, int ActorTid, bool IsIdle, bool IsOpen, bool IsBackground = false)
{
    /// <summary>How long the worker was in the state, in nanoseconds.</summary>
    public long DurationNs => EndNs - StartNs;

    /// <summary>A BLOCKED interval that a detector started (the transition was made on the worker's behalf).</summary>
    public bool IsBlockedOnBehalf => State == TaskState.Blocked && ActorTid != WorkerTid;
}
