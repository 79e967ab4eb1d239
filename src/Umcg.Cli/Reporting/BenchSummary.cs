using Spectre.Console;

namespace Umcg.Cli.Reporting;

/// <summary>The repetitions of one system in a bench, summarised as medians (the last repetition's latency distribution goes into the plot).</summary>
internal sealed class BenchSummary
{
    public BenchSummary(string system, IReadOnlyList<WorkloadResult> reps)
    {
        System = system;
        Reps = reps;
        var last = reps[^1];
        Median = new WorkloadResult
        {
            Workload = last.Workload,
            System = system,
            WallSeconds = Med(r => r.WallSeconds)!.Value,
            Utilization = Med(r => r.Utilization),
            ThroughputPerSecond = Med(r => r.ThroughputPerSecond)!.Value,
            ThroughputUnit = last.ThroughputUnit,
            LatencyMeasure = last.LatencyMeasure,
            MaxRunning = reps.Any(r => r.MaxRunning is null) ? null : reps.Max(r => r.MaxRunning),
            InvoluntaryContextSwitches = (long)Med(r => r.InvoluntaryContextSwitches)!.Value,
            VoluntaryContextSwitches = (long)Med(r => r.VoluntaryContextSwitches)!.Value,
            UtilizationSeries = last.UtilizationSeries,
            UtilizationOriginNs = last.UtilizationOriginNs,
            LatencyDistribution = last.LatencyDistribution,
        };
        if (reps.All(r => r.Latency is not null))
        {
            Median.Latency = new LatencySummary(
                (long)Med(r => r.Latency!.Count)!.Value,
                (long)Med(r => r.Latency!.Dropped)!.Value,
                Med(r => r.Latency!.P50Us)!.Value,
                Med(r => r.Latency!.P99Us)!.Value,
                Med(r => r.Latency!.P999Us)!.Value,
                reps.Max(r => r.Latency!.MaxUs),
                Med(r => r.Latency!.MeanUs)!.Value);
        }

        foreach (string key in last.Extra.Keys)
        {
            if (Med(r => r.Extra.TryGetValue(key, out double v) ? v : null) is double m)
            {
                Median.Extra[key] = m;
            }
        }

        foreach (string note in reps.SelectMany(r => r.Notes).Distinct())
        {
            Median.Notes.Add(note);
        }
    }

    public string System { get; }

    public IReadOnlyList<WorkloadResult> Reps { get; }

    /// <summary>Medians over the repetitions (max_running and max latency: the maximum).</summary>
    public WorkloadResult Median { get; }

    private double? Med(Func<WorkloadResult, double?> pick)
    {
        var values = Reps.Select(pick).Where(v => v is not null).Select(v => v!.Value).Order().ToArray();
        if (values.Length == 0)
        {
            return null;
        }

        int mid = values.Length / 2;
        return values.Length % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
    }

    /// <summary>The side-by-side table: medians, with ratios to the reference (the first summary: Umcg).</summary>
    public static Table Table(IWorkload workload, IReadOnlyList<BenchSummary> summaries)
    {
        var reference = summaries[0].Median;
        bool utilization = reference.Utilization is not null;
        string unit = reference.ThroughputUnit;
        var extras = workload.ReportedExtras;
        var headers = new List<string> { "system" };
        if (utilization)
        {
            headers.AddRange(["util", "max running"]);
        }

        headers.AddRange([$"{unit}/s", "×umcg", "p50 µs", "p99 µs", "p99 ×umcg", "p99.9 µs", "invol cs/s", "others' CPU"]);
        headers.AddRange(extras);
        var table = ConsoleUi.Table([.. headers]);
        foreach (var figures in table.Columns.Skip(1))
        {
            figures.RightAligned();
        }

        foreach (var s in summaries)
        {
            var m = s.Median;
            var row = new List<string> { s.System };
            if (utilization)
            {
                row.AddRange([Format.Num(m.Utilization, "0.000"), m.MaxRunning?.ToString(CultureInfo.InvariantCulture) ?? Format.None]);
            }

            row.AddRange(
            [
                Format.Rate(m.ThroughputPerSecond),
                Format.Ratio(m.ThroughputPerSecond, reference.ThroughputPerSecond),
                Format.Us(m.Latency?.P50Us),
                Format.Us(m.Latency?.P99Us),
                Format.Ratio(m.Latency?.P99Us, reference.Latency?.P99Us),
                Format.Us(m.Latency?.P999Us),
                Format.Rate(m.InvoluntaryContextSwitches / m.WallSeconds),
                Format.Num(m.Extra.TryGetValue("other_processes_cpu_share", out double others) ? others : null),
            ]);
            row.AddRange(extras.Select(key => m.Extra.TryGetValue(key, out double v) ? Format.Rate(v) : Format.None));
            table.AddCells(row);
        }

        return table;
    }
}
