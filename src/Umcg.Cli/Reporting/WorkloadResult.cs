namespace Umcg.Cli.Reporting;

/// <summary>What one run of one workload on one system measured.</summary>
internal sealed class WorkloadResult
{
    public required string Workload { get; init; }

    public required string System { get; init; }

    /// <summary>Wall time of the measured part (s).</summary>
    public double WallSeconds { get; set; }

    /// <summary>Compute CPU time / (wall × N), where the workload measures it.</summary>
    public double? Utilization { get; set; }

    /// <summary>Units of <see cref="ThroughputUnit"/> completed per second.</summary>
    public double ThroughputPerSecond { get; set; }

    public string ThroughputUnit { get; set; } = "ops";

    /// <summary>What <see cref="Latency"/> measures.</summary>
    public string LatencyMeasure { get; set; } = "";

    public LatencySummary? Latency { get; set; }

    /// <summary>The most compute sections running at once, where the workload measures it.</summary>
    public int? MaxRunning { get; set; }

    public long InvoluntaryContextSwitches { get; set; }

    public long VoluntaryContextSwitches { get; set; }

    /// <summary>Workload-specific figures (snake_case names), written into the JSON as they are.</summary>
    public SortedDictionary<string, double> Extra { get; } = new(StringComparer.Ordinal);

    /// <summary>What the reader should know about this run (e.g. a system that stalled).</summary>
    public List<string> Notes { get; } = [];

    /// <summary>Per-CPU utilization over time (for the plot), if measured.</summary>
    public IReadOnlyList<UtilizationSample> UtilizationSeries { get; set; } = [];

    /// <summary>The CLOCK_MONOTONIC time (ns) at which <see cref="UtilizationSeries"/> starts.</summary>
    public long UtilizationOriginNs { get; set; }

    /// <summary>Every latency sample (ns, ascending), for the CDF plot; not written to JSON.</summary>
    public long[] LatencySamples { get; set; } = [];

    /// <summary>Summarises <paramref name="recorder"/> into <see cref="Latency"/> and keeps its samples.</summary>
    public void SetLatency(LatencyRecorder recorder, string measure)
    {
        LatencySamples = recorder.Sorted();
        LatencyMeasure = measure;
        Latency = LatencySummary.Of(LatencySamples, recorder.Dropped);
    }
}

/// <summary>Percentiles of a latency distribution, in microseconds.</summary>
internal sealed record LatencySummary(long Count, long Dropped, double P50Us, double P99Us, double P999Us, double MaxUs, double MeanUs)
{
    public static LatencySummary? Of(long[] sortedNs, long dropped)
    {
        if (sortedNs.Length == 0)
        {
            return null;
        }

        static double Us(long? ns) => (ns ?? 0) / 1000.0;
        double mean = 0;
        foreach (long v in sortedNs)
        {
            mean += v;
        }

        return new LatencySummary(
            sortedNs.Length,
            dropped,
            Us(Percentiles.Of(sortedNs, 50)),
            Us(Percentiles.Of(sortedNs, 99)),
            Us(Percentiles.Of(sortedNs, 99.9)),
            Us(sortedNs[^1]),
            mean / sortedNs.Length / 1000.0);
    }
}
