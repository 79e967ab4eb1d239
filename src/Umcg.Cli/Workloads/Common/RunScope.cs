namespace Umcg.Cli.Workloads.Common;

/// <summary>
/// The measured part of a run: wall time, the process's context switches, and how much CPU this process and
/// other processes used between start and finish.
/// </summary>
internal sealed class RunScope
{
    private readonly (long Voluntary, long Involuntary) _switches;
    private readonly MachineLoad _load;
    private readonly long _harnessNs;

    private RunScope()
    {
        _load = MachineLoad.Now();
        _harnessNs = HarnessCpu.Now();
        _switches = LinuxSyscalls.ContextSwitches();
        StartNs = LinuxSyscalls.MonotonicNs();
    }

    public long StartNs { get; }

    public static RunScope Start() => new();

    public double ElapsedSeconds => (LinuxSyscalls.MonotonicNs() - StartNs) / 1e9;

    /// <summary>Ends the measured part: sets wall time and context-switch deltas on <paramref name="result"/>.</summary>
    public void Finish(WorkloadResult result)
    {
        result.WallSeconds = ElapsedSeconds;
        var now = LinuxSyscalls.ContextSwitches();
        result.VoluntaryContextSwitches = now.Voluntary - _switches.Voluntary;
        result.InvoluntaryContextSwitches = now.Involuntary - _switches.Involuntary;
        var load = MachineLoad.Now();
        result.Extra["process_cpu_share"] = (load.ProcessCpuNs - _load.ProcessCpuNs) / (result.WallSeconds * 1e9 * Environment.ProcessorCount);
        result.Extra["other_processes_cpu_share"] = MachineLoad.OtherShare(_load, load, result.WallSeconds);

        // Part of process_cpu_share: the harness's own threads (pipe device, sampler), whichever system runs.
        result.Extra["harness_cpu_share"] = (HarnessCpu.Now() - _harnessNs) / (result.WallSeconds * 1e9 * Environment.ProcessorCount);
    }
}
