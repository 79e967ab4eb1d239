using System.Text.Json;

namespace Umcg.Cli.Reporting;

/// <summary>
/// Something that contributes events to the run's trace.json (Chrome trace event format, which Perfetto also
/// opens). This is the seam for Umcg.Diagnostics: its per-transition recorder (worker RUNNING / BLOCKED /
/// RUNNABLE spans per server) becomes one more source here; today the only source is the sampled utilization.
/// </summary>
internal interface ITraceSource
{
    /// <summary>Writes this source's events as elements of the traceEvents array.</summary>
    void WriteEvents(Utf8JsonWriter writer);
}

/// <summary>Writes trace.json from its sources.</summary>
internal static class ChromeTrace
{
    public static void Write(string path, IEnumerable<ITraceSource> sources)
    {
        using var stream = File.Create(path);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false });
        w.WriteStartObject();
        w.WriteString("displayTimeUnit", "ms");
        w.WriteStartArray("traceEvents");
        foreach (var source in sources)
        {
            source.WriteEvents(w);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }
}

/// <summary>The utilization samples as counter events: one track per CPU, sampled every few milliseconds.</summary>
internal sealed class SampledUtilizationTrace(WorkloadResult result) : ITraceSource
{
    public void WriteEvents(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("name", "process_name");
        w.WriteString("ph", "M");
        w.WriteNumber("pid", 1);
        w.WriteNumber("tid", 0);
        w.WriteStartObject("args");
        w.WriteString("name", $"umcg {result.Workload} on {result.System}");
        w.WriteEndObject();
        w.WriteEndObject();

        foreach (var sample in result.UtilizationSeries)
        {
            for (int cpu = 0; cpu < sample.PerCpu.Length; cpu++)
            {
                w.WriteStartObject();
                w.WriteString("name", $"utilization CPU {cpu}");
                w.WriteString("ph", "C");
                w.WriteNumber("ts", Math.Round(sample.Seconds * 1e6, 1));
                w.WriteNumber("pid", 1);
                w.WriteNumber("tid", 0);
                w.WriteStartObject("args");
                w.WriteNumber("compute share", Math.Round(sample.PerCpu[cpu], 4));
                w.WriteEndObject();
                w.WriteEndObject();
            }
        }
    }
}
