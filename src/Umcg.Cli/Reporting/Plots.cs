using ScottPlot;

namespace Umcg.Cli.Reporting;

/// <summary>The report's PNG plots (ScottPlot, drawn with SkiaSharp's bundled native library).</summary>
internal static class Plots
{
    private const int Width = 900;
    private const int Height = 500;

    /// <summary>Utilization of each CPU over time, with the mean over all CPUs.</summary>
    public static void Utilization(WorkloadResult result, string path)
    {
        var plot = new Plot();
        var series = result.UtilizationSeries;
        double[] xs = series.Select(s => s.Seconds).ToArray();
        int cpus = series.Count == 0 ? 0 : series[0].PerCpu.Length;
        for (int c = 0; c < cpus; c++)
        {
            double[] ys = series.Select(s => s.PerCpu[c]).ToArray();
            var line = plot.Add.ScatterLine(xs, ys);
            line.LegendText = $"CPU {c}";
            line.LineWidth = 1;
        }

        if (cpus > 1)
        {
            var mean = plot.Add.ScatterLine(xs, series.Select(s => s.PerCpu.Average()).ToArray());
            mean.LegendText = "mean";
            mean.LineWidth = 2;
            mean.Color = Colors.Black;
        }

        plot.Title($"{result.Workload} on {result.System}: compute time per CPU (utilization {Format.Num(result.Utilization)})");
        plot.XLabel("seconds");
        plot.YLabel("share of the interval in compute sections");
        plot.Axes.SetLimitsY(0, 1.1);
        plot.ShowLegend(Alignment.LowerRight);
        plot.SavePng(path, Width, Height);
    }

    /// <summary>Latency CDF of one or more systems, latency on a log axis.</summary>
    public static void LatencyCdf(IEnumerable<WorkloadResult> results, string path)
    {
        var plot = new Plot();
        string workload = "";
        string measure = "";
        foreach (var r in results)
        {
            workload = r.Workload;
            measure = r.LatencyMeasure;
            var cdf = r.LatencyDistribution?.Cdf().ToList() ?? [];
            if (cdf.Count == 0)
            {
                continue;
            }

            double[] xs = cdf.Select(p => Math.Log10(Math.Max(p.Value, 1) / 1000.0)).ToArray();
            double[] ys = cdf.Select(p => p.Fraction).ToArray();
            var line = plot.Add.ScatterLine(xs, ys);
            line.LegendText = r.System;
            line.LineWidth = 2;
        }

        var ticks = new ScottPlot.TickGenerators.NumericAutomatic
        {
            LabelFormatter = x => Math.Pow(10, x).ToString("0.###", System.Globalization.CultureInfo.InvariantCulture),
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
        };
        plot.Axes.Bottom.TickGenerator = ticks;
        plot.Title($"{workload}: latency CDF");
        plot.XLabel($"{measure} (µs, log scale)");
        plot.YLabel("fraction ≤ x");
        plot.Axes.SetLimitsY(0, 1.02);
        plot.ShowLegend(Alignment.LowerRight);
        plot.SavePng(path, Width, Height);
    }
}
