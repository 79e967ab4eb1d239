namespace Umcg.Cli.Workloads.Common;

/// <summary>
/// The frame every workload that measures compute sections shares (colocation, mixed, pipeline): its result,
/// compute meter and latency recorder, one measured run on a system with a utilization sampler that drives the
/// progress display, and the figures each of them reports. What differs (the tasks, how a run ends, the extra
/// figures) stays in the workload.
/// </summary>
internal sealed class MeteredRun
{
    private static readonly TimeSpan SampleInterval = TimeSpan.FromMilliseconds(20);

    private readonly string _system;
    private readonly WorkloadSettings _settings;

    public MeteredRun(string workload, string system, WorkloadSettings settings, string throughputUnit)
    {
        _ = Spin.IterationsPerUs; // calibrated before the measured part
        _system = system;
        _settings = settings;
        Result = new WorkloadResult { Workload = workload, System = system, ThroughputUnit = throughputUnit };
    }

    public WorkloadResult Result { get; }

    public ComputeMeter Meter { get; } = new(Environment.ProcessorCount);

    public LatencyHistogram Latency { get; } = new();

    /// <summary>
    /// Runs once on a new system: starts the sampler (<paramref name="tick"/> gets the seconds elapsed, every
    /// sample), lets <paramref name="start"/> start the tasks (it gets the group and the run's start, in monotonic
    /// ns, and may generate load until the run is over), waits for every task, and records the wall time, the
    /// utilization series and the Umcg scheduler's counters.
    /// </summary>
    /// <exception cref="TimeoutException">The tasks did not all finish within the stall limit.</exception>
    public void Measure(SystemSettings systemSettings, Action<double> tick, Action<TaskGroup, long> start)
    {
        ArgumentNullException.ThrowIfNull(start);
        using var sys = SystemNames.Create(_system, systemSettings with { OsTimeSlice = _settings.OsTimeSlice, OsTimeSliceMode = _settings.OsTimeSliceMode });
        var group = new TaskGroup(sys);
        Meter.Servers = sys as IServerView;
        var scope = RunScope.Start();
        using (var sampler = new UtilizationSampler(Meter, SampleInterval, tick))
        {
            sampler.Start(scope.StartNs);
            start(group, scope.StartNs);
            if (!group.Wait(_settings.StallLimit))
            {
                throw new TimeoutException($"{Result.Workload} on {_system}: tasks did not finish within {_settings.StallLimit.TotalSeconds:0} s");
            }

            scope.Finish(Result);
            sampler.Dispose(); // stopped before its samples are read
            Result.UtilizationSeries = sampler.Samples;
            Result.UtilizationOriginNs = sampler.OriginNs;
        }

        UmcgFigures.AddTo(Result, sys);
    }

    /// <summary>The figures every metered workload reports: utilization, throughput, most sections at once, latency and servers.</summary>
    /// <param name="completed">How many of the throughput unit the run completed.</param>
    /// <param name="latencyMeasure">What a latency sample spans.</param>
    public WorkloadResult Finish(long completed, string latencyMeasure)
    {
        Result.Utilization = Meter.TotalNs() / (Result.WallSeconds * 1e9 * _settings.Servers);
        Result.ThroughputPerSecond = completed / Result.WallSeconds;
        Result.MaxRunning = Meter.MaxRunning;
        Result.SetLatency(Latency, latencyMeasure);
        return Result;
    }
}
