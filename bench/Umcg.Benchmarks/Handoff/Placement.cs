namespace Umcg.Benchmarks.Handoff;

/// <summary>Where the threads of a handoff benchmark run.</summary>
public enum Placement
{
    /// <summary>
    /// All on one CPU: the UMCG server pins itself and the kernel half moves its workers there (the RFC's
    /// WF_CURRENT_CPU wake); the baselines pin both threads. A handoff is a switch on one CPU.
    /// </summary>
    SameCpu,

    /// <summary>Nobody pinned: the scheduler may put the two sides on different CPUs, so a handoff may be a cross-CPU wake.</summary>
    Unpinned,
}
