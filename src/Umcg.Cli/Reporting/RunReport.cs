namespace Umcg.Cli.Reporting;

/// <summary>The output folder of a run: summary.json, the PNG plots, trace.json.</summary>
internal static class RunReport
{
    public const string Summary = "summary.json";
    public const string UtilizationPng = "utilization.png";
    public const string LatencyPng = "latency-cdf.png";
    public const string TraceJson = "trace.json";

    /// <summary>Where a run writes when no --out is given: ./umcg-out/&lt;name&gt;-&lt;timestamp&gt;.</summary>
    public static string DefaultFolder(string name) =>
        Path.Combine("umcg-out", $"{name}-{DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}");

    /// <summary>Writes every file; returns their paths.</summary>
    /// <param name="result">The run.</param>
    /// <param name="folder">Where to write (created if missing).</param>
    /// <param name="plots">Whether to draw the PNG plots.</param>
    /// <param name="summaryRecord">What summary.json holds, made once the notes of this report are in the result.</param>
    /// <param name="recorder">The scheduler's recording of the run, if any: it becomes most of trace.json.</param>
    public static List<string> Write(WorkloadResult result, string folder, bool plots, Func<RunRecord> summaryRecord, Umcg.Diagnostics.TraceRecorder? recorder = null)
    {
        Directory.CreateDirectory(folder);
        // The scheduler's own recording when there is one (its events fix the time origin), the sampled
        // utilization beside it on the same axis.
        var sources = new List<ITraceSource>();
        long originNs = result.UtilizationOriginNs;
        if (recorder is not null && recorder.Count > 0)
        {
            var recorded = new RecordedTrace(recorder);
            sources.Add(recorded);
            originNs = recorded.OriginNs;
            if (recorded.Dropped > 0)
            {
                result.Notes.Add(string.Create(CultureInfo.InvariantCulture, $"{TraceJson} holds the first {recorded.Events:N0} scheduler events; {recorded.Dropped:N0} later ones did not fit (the recording ends before the run)"));
            }
        }

        var files = new List<string>();
        string summary = Path.Combine(folder, Summary);
        File.WriteAllText(summary, ResultJson.Pretty(summaryRecord()) + Environment.NewLine);
        files.Add(summary);

        if (plots && result.UtilizationSeries.Count > 0)
        {
            string png = Path.Combine(folder, UtilizationPng);
            Plots.Utilization(result, png);
            files.Add(png);
        }

        if (plots && result.LatencyDistribution?.Count > 0)
        {
            string png = Path.Combine(folder, LatencyPng);
            Plots.LatencyCdf([result], png);
            files.Add(png);
        }

        if (result.UtilizationSeries.Count > 0)
        {
            sources.Add(new SampledUtilizationTrace(result, originNs));
        }

        if (sources.Count > 0)
        {
            string trace = Path.Combine(folder, TraceJson);
            ChromeTrace.Write(trace, sources);
            files.Add(trace);
        }

        return files;
    }
}
