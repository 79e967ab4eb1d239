namespace Umcg.Cli.Workloads.Common;

/// <summary>
/// The measured part of a run: wall time, the process's context switches, and how much CPU this process and
/// other processes used between start and finish, and the collections the runtime made meanwhile (a stop-the-world
/// pause stops every system alike, and a thread the GC cannot stop quickly — one demoted behind busy processes —
/// shows here first).
/// </summary>
internal sealed class RunScope
{
    private readonly (long Voluntary, long Involuntary) _switches;
    private readonly MachineLoad _load;
    private readonly long _harnessNs;
    private readonly int _collections;
    private readonly TimeSpan _gcPause;
    private readonly TimeSpan _jitTime;
    private readonly long _jitMethods;

    private RunScope()
    {
        _load = MachineLoad.Now();
        _harnessNs = HarnessCpu.Now();
        _collections = GC.CollectionCount(0);
        _gcPause = GC.GetTotalPauseDuration();
        _jitTime = System.Runtime.JitInfo.GetCompilationTime();
        _jitMethods = System.Runtime.JitInfo.GetCompiledMethodCount();
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

        // Every collection counts in generation 0; the pause spans suspension and the collection itself.
        result.Extra["gc_collections"] = GC.CollectionCount(0) - _collections;
        result.Extra["gc_pause_ms"] = (GC.GetTotalPauseDuration() - _gcPause).TotalMilliseconds;

        // The JIT's work meanwhile (tiering up, on its own background thread): CPU every system pays for its own code,
        // and more of it the more code a system runs.
        result.Extra["jit_ms"] = (System.Runtime.JitInfo.GetCompilationTime() - _jitTime).TotalMilliseconds;
        result.Extra["jit_methods"] = System.Runtime.JitInfo.GetCompiledMethodCount() - _jitMethods;
    }
}
