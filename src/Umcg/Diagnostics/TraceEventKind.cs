namespace Umcg.Diagnostics;

/// <summary>What a <see cref="TraceEvent"/> records.</summary>
public enum TraceEventKind : byte
{
    /// <summary>Not an event (an unwritten slot); never returned.</summary>
    None = 0,

    /// <summary>A worker's state transition in the kernel half (<see cref="TraceEvent.From"/> → <see cref="TraceEvent.To"/>).</summary>
    Transition = 1,

    /// <summary>A server chose the worker to run next (written to its next_tid).</summary>
    Pick = 2,

    /// <summary>A worker (<see cref="TraceEvent.OtherTid"/>) handed its server's CPU straight to another (<see cref="TraceEvent.Tid"/>) through next_tid.</summary>
    Switch = 3,

    /// <summary>An idle server (<see cref="TraceEvent.ServerTid"/>) took a queued worker from a busy one (<see cref="TraceEvent.OtherTid"/>).</summary>
    Steal = 4,

    /// <summary>A busy server (<see cref="TraceEvent.ServerTid"/>) handed a queued worker to an idle one (<see cref="TraceEvent.OtherTid"/>).</summary>
    HandOver = 5,

    /// <summary>A server asked its running worker to give way (TF_PREEMPT and a kick).</summary>
    PreemptRequest = 6,

    /// <summary>A worker finished its body and went back to the pool of idle worker threads (it waits BLOCKED until reused).</summary>
    BodyFinished = 7,

    /// <summary>
    /// A server (<see cref="TraceEvent.ServerTid"/>) demoted its running worker, which overstayed a give-way without a
    /// safepoint: the worker runs on in the background, its OS thread lowered, and the server runs another.
    /// </summary>
    Demoted = 8,

    /// <summary>A server took its background worker back into the foreground: it had nothing better to run.</summary>
    Adopted = 9,
}
