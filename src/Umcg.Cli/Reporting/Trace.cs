using System.Text.Json;

namespace Umcg.Cli.Reporting;

/// <summary>
/// Something that contributes events to the run's trace.json (Chrome trace event format, which Perfetto also
/// opens): the scheduler's own per-transition recording (<see cref="RecordedTrace"/>) and the sampled
/// utilization (<see cref="SampledUtilizationTrace"/>), on one time axis.
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

/// <summary>
/// The utilization samples as counter events: one track per CPU, sampled every few milliseconds. Timestamps
/// count from <paramref name="originNs"/> (CLOCK_MONOTONIC), the origin of the rest of the trace.
/// </summary>
internal sealed class SampledUtilizationTrace(WorkloadResult result, long originNs) : ITraceSource
{
    /// <summary>The process the counters appear under; the recorder's servers and workers are processes 1 and 2.</summary>
    private const int Pid = 3;

    /// <summary>The samples alone: time counts from the first sample.</summary>
    public SampledUtilizationTrace(WorkloadResult result)
        : this(result, result.UtilizationOriginNs)
    {
    }

    public void WriteEvents(Utf8JsonWriter w)
    {
        double offsetUs = (result.UtilizationOriginNs - originNs) / 1e3;
        w.WriteStartObject();
        w.WriteString("name", "process_name");
        w.WriteString("ph", "M");
        w.WriteNumber("pid", Pid);
        w.WriteNumber("tid", 0);
        w.WriteStartObject("args");
        w.WriteString("name", $"utilization: {result.Workload} on {result.System}");
        w.WriteEndObject();
        w.WriteEndObject();

        foreach (var sample in result.UtilizationSeries)
        {
            for (int cpu = 0; cpu < sample.PerCpu.Length; cpu++)
            {
                w.WriteStartObject();
                w.WriteString("name", $"utilization CPU {cpu}");
                w.WriteString("ph", "C");
                w.WriteNumber("ts", Math.Round(offsetUs + (sample.Seconds * 1e6), 1));
                w.WriteNumber("pid", Pid);
                w.WriteNumber("tid", 0);
                w.WriteStartObject("args");
                w.WriteNumber("compute share", Math.Round(sample.PerCpu[cpu], 4));
                w.WriteEndObject();
                w.WriteEndObject();
            }
        }
    }
}
