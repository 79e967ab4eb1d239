namespace Umcg.Scheduling.Demotion;

/// <summary>
/// What the process may do to a worker's OS thread that overstays without reaching a safepoint, detected once
/// at start. The rule the kernel applies: lowering a thread of one's own (to SCHED_IDLE, or to a higher nice) is
/// always allowed; restoring it to nice <c>n</c> needs RLIMIT_NICE ≥ 20 − <c>n</c> or CAP_SYS_NICE.
/// </summary>
public enum DemotionMode
{
    /// <summary>Not Linux, or even lowering a thread was refused (a seccomp filter, say): no demotion.</summary>
    Unavailable,

    /// <summary>A thread may be demoted but not restored: once demoted it runs demoted until it leaves.</summary>
    OneWay,

    /// <summary>A thread may be demoted and restored (CAP_SYS_NICE, or RLIMIT_NICE high enough).</summary>
    Restorable,
}

/// <summary>How a thread is (or was to be) demoted.</summary>
public enum DemotionMechanism
{
    /// <summary>Not demoted.</summary>
    None,

    /// <summary>SCHED_IDLE through sched_setattr: weight 3 against 1024 for a nice-0 thread on the same CPU.</summary>
    SchedIdle,

    /// <summary>Nice 19 through setpriority, the policy kept: weight 15 against 1024.</summary>
    Nice19,
}
