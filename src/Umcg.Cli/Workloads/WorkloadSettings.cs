namespace Umcg.Cli.Workloads;

/// <summary>How big and how long a workload run is.</summary>
internal sealed record WorkloadSettings
{
    /// <summary>How long the measured part lasts (workloads with a fixed amount of work ignore it).</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>N: Umcg servers and fixed-pool threads; the denominator of utilization.</summary>
    public int Servers { get; init; } = DefaultServers;

    /// <summary>How many tasks or workers the workload starts; null for its own default.</summary>
    public int? Workers { get; init; }

    /// <summary>
    /// Records every worker transition of the Umcg system into this recorder (for trace.json); null: none.
    /// Other systems ignore it.
    /// </summary>
    public Umcg.Diagnostics.TraceRecorder? Trace { get; init; }

    /// <summary>The OS time slice of the Umcg system's threads (<c>--os-slice</c>); null for the OS's own. Other systems ignore it.</summary>
    public TimeSpan? OsTimeSlice { get; init; } = UmcgSchedulerOptions.DefaultOsTimeSlice;

    /// <summary>When the Umcg system's threads ask for <see cref="OsTimeSlice"/> (<c>--os-slice-mode</c>). Other systems ignore it.</summary>
    public OsTimeSliceMode OsTimeSliceMode { get; init; }

    /// <summary>
    /// Whether a part whose figures depend on what ran before it in the process is measured in a process of its own
    /// (scale's alive part; <c>umcg bench</c> sets it, so that no system pays for or profits from another).
    /// </summary>
    public bool FreshProcesses { get; init; }

    /// <summary>How long a run may take before it is reported as stalled: a liveness bound, not a speed limit.</summary>
    public TimeSpan StallLimit => Duration + TimeSpan.FromSeconds(120);

    /// <summary>One server per CPU the process may run on.</summary>
    public static int DefaultServers => Math.Max(1, Umcg.Kernel.Native.LinuxSyscalls.GetAffinity(0).Length is int n and > 0 ? n : Environment.ProcessorCount);
}
