namespace Umcg.Scheduling;

/// <summary>When the scheduler's threads ask the OS for <see cref="UmcgSchedulerOptions.OsTimeSlice"/>.</summary>
public enum OsTimeSliceMode
{
    /// <summary>
    /// Only while other processes keep the machine's CPUs busy; on a machine the process has to itself the threads keep
    /// the OS's own slice. One thread per process samples the others' CPU time four times a second while a scheduler
    /// runs: the short slice again as soon as a sample finds them at a tenth of the CPUs (at most half a CPU's worth),
    /// the OS's after a second below half that. A process's first scheduler starts with the short slice, later ones
    /// from what the process has seen.
    /// </summary>
    WhenContended,

    /// <summary>Always, whatever else runs on the machine.</summary>
    Always,
}
