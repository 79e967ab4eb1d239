namespace Umcg.Scheduling;

/// <summary>When the scheduler's threads ask the OS for <see cref="UmcgSchedulerOptions.OsTimeSlice"/>.</summary>
public enum OsTimeSliceMode
{
    /// <summary>
    /// Only while other processes keep the machine's CPUs busy; on a machine the process has to itself the threads keep
    /// the OS's own slice. The scheduler samples the others' CPU time four times a second and asks the short slice
    /// again as soon as a sample finds them at a tenth of the CPUs (at most half a CPU's worth); it goes back to the
    /// OS's slice after a second below half that. Starts with the short slice.
    /// </summary>
    WhenContended,

    /// <summary>Always, whatever else runs on the machine.</summary>
    Always,
}
