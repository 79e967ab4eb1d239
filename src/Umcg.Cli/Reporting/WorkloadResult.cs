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

    /// <summary>The latency distribution (ns), for the CDF plot; not written to JSON.</summary>
    public LatencyHistogram? LatencyDistribution { get; set; }

    /// <summary>Summarises <paramref name="histogram"/> into <see cref="Latency"/> and keeps it for the plot.</summary>
    public void SetLatency(LatencyHistogram histogram, string measure)
    {
        LatencyDistribution = histogram;
        LatencyMeasure = measure;
        Latency = LatencySummary.Of(histogram);
    }
}

/// <summary>Percentiles of a latency distribution, in microseconds.</summary>
internal sealed record LatencySummary(long Count, long Dropped, double P50Us, double P99Us, double P999Us, double MaxUs, double MeanUs)
{
    /// <summary>The summary of <paramref name="histogram"/>; null when it holds no sample.</summary>
    public static LatencySummary? Of(LatencyHistogram histogram)
    {
        if (histogram.Count == 0)
        {
            return null;
        }

        return new LatencySummary(
            histogram.Count,
            histogram.Dropped,
            histogram.ValueAt(50) / 1000.0,
            histogram.ValueAt(99) / 1000.0,
            histogram.ValueAt(99.9) / 1000.0,
            histogram.Max / 1000.0,
            histogram.Mean / 1000.0);
    }
}
