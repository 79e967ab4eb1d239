using Umcg.Abi;

namespace Umcg.Diagnostics;

/// <summary>One recorded event of a <see cref="TraceRecorder"/>.</summary>
/// <param name="TimestampNs">When, on the monotonic clock (CLOCK_MONOTONIC), in nanoseconds.</param>
/// <param name="Kind">What happened.</param>
/// <param name="Tid">The worker the event is about (for <see cref="TraceEventKind.Pick"/> and <see cref="TraceEventKind.Switch"/>, the one about to run).</param>
/// <param name="ServerTid">
/// A transition: the server the worker belonged to (its server_tid). A scheduler event: the server that acted
/// (for <see cref="TraceEventKind.Switch"/>, the server whose CPU changed hands).
/// </param>
/// <param name="OtherTid">
/// A transition: the thread that made it (the worker itself, the server or worker that woke it, or a detector
/// that blocked it on its behalf). <see cref="TraceEventKind.Switch"/>: the worker that switched.
/// <see cref="TraceEventKind.Steal"/>: the server stolen from. <see cref="TraceEventKind.HandOver"/>: the server
/// handed to. Otherwise 0.
/// </param>
/// <param name="From">A transition's old state (RUNNING for a worker that gave its CPU up in Wait); otherwise <see cref="TaskState.None"/>.</param>
/// <param name="To">A transition's new state; otherwise <see cref="TaskState.None"/>.</param>
/// <param name="Name">For <see cref="TraceEventKind.Pick"/> and <see cref="TraceEventKind.Switch"/>, the name of the body the worker runs (see <c>WorkerOptions.Name</c>), if it has one.</param>
public readonly record struct TraceEvent(
    long TimestampNs, TraceEventKind Kind, int Tid, int ServerTid, int OtherTid, TaskState From, TaskState To, string? Name)
{
    /// <summary>Whether this is a transition made by another thread than the worker's own (a wake, or a detector's block).</summary>
    public bool IsOnBehalf => Kind == TraceEventKind.Transition && OtherTid != Tid;
}
