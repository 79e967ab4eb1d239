namespace Umcg.Cli.Systems;

/// <summary>How a workload wants its system set up.</summary>
/// <param name="Capacity">N: Umcg servers, and threads of the fixed pool.</param>
/// <param name="Priorities">Use a priority policy on Umcg (requests above batch; <see cref="Umcg.Scheduling.Policies.PriorityPolicy"/> without round robin).</param>
/// <param name="Trace">Umcg only: record the scheduler into this recorder from the start.</param>
/// <param name="ViaServer">Umcg only: every switch through the server, every arrival waking it (see <see cref="SystemNames.UmcgViaServer"/>).</param>
/// <param name="Demotion">Umcg only: preemption by demotion on (the default) or off (see <see cref="SystemNames.UmcgNoDemotion"/>).</param>
/// <param name="DemoteToNice19">Umcg only: demote to nice 19 rather than SCHED_IDLE (see <see cref="SystemNames.UmcgNice19"/>).</param>
internal sealed record SystemSettings(
    int Capacity, bool Priorities = false, Umcg.Diagnostics.TraceRecorder? Trace = null, bool ViaServer = false, bool Demotion = true, bool DemoteToNice19 = false)
{
    /// <summary>Umcg only: the OS time slice of its threads (see <see cref="UmcgSchedulerOptions.OsTimeSlice"/>); null for the OS's own.</summary>
    public TimeSpan? OsTimeSlice { get; init; } = UmcgSchedulerOptions.DefaultOsTimeSlice;

    /// <summary>Umcg only: when its threads ask for <see cref="OsTimeSlice"/> (see <see cref="UmcgSchedulerOptions.OsTimeSliceMode"/>).</summary>
    public OsTimeSliceMode OsTimeSliceMode { get; init; }
}
