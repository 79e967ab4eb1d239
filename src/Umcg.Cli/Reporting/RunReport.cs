using System.Globalization;
using System.Text.Json.Nodes;

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
    public static List<string> Write(WorkloadResult result, string folder, bool plots, IReadOnlyDictionary<string, JsonNode?> context)
    {
        Directory.CreateDirectory(folder);
        var files = new List<string>();
        string summary = Path.Combine(folder, Summary);
        File.WriteAllText(summary, ResultJson.Pretty(result, context) + Environment.NewLine);
        files.Add(summary);

        if (plots && result.UtilizationSeries.Count > 0)
        {
            string png = Path.Combine(folder, UtilizationPng);
            Plots.Utilization(result, png);
            files.Add(png);
        }

        if (plots && result.LatencySamples.Length > 0)
        {
            string png = Path.Combine(folder, LatencyPng);
            Plots.LatencyCdf([result], png);
            files.Add(png);
        }

        // Only what can be written as a valid trace today; the per-transition trace plugs in as an ITraceSource.
        if (result.UtilizationSeries.Count > 0)
        {
            string trace = Path.Combine(folder, TraceJson);
            ChromeTrace.Write(trace, [new SampledUtilizationTrace(result)]);
            files.Add(trace);
        }

        return files;
    }
}
