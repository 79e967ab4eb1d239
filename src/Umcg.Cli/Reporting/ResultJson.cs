using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Umcg.Cli.Reporting;

/// <summary>Results as JSON: one object per result, snake_case names, null where a figure does not apply.</summary>
internal static class ResultJson
{
    private static readonly JsonWriterOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonWriterOptions Indented = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>One line of JSON (for JSON lines).</summary>
    public static string Line(WorkloadResult r, IReadOnlyDictionary<string, JsonNode?>? more = null) => Write(r, more, Compact);

    /// <summary>Indented JSON (for summary.json).</summary>
    public static string Pretty(WorkloadResult r, IReadOnlyDictionary<string, JsonNode?>? more = null) => Write(r, more, Indented);

    private static string Write(WorkloadResult r, IReadOnlyDictionary<string, JsonNode?>? more, JsonWriterOptions options)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, options))
        {
            w.WriteStartObject();
            w.WriteString("workload", r.Workload);
            w.WriteString("system", r.System);
            Number(w, "wall_s", r.WallSeconds);
            Number(w, "utilization", r.Utilization);
            Number(w, "throughput_per_s", r.ThroughputPerSecond);
            w.WriteString("throughput_unit", r.ThroughputUnit);
            w.WriteString("latency", r.LatencyMeasure);
            Number(w, "p50_us", r.Latency?.P50Us);
            Number(w, "p99_us", r.Latency?.P99Us);
            Number(w, "p999_us", r.Latency?.P999Us);
            Number(w, "max_us", r.Latency?.MaxUs);
            Number(w, "mean_us", r.Latency?.MeanUs);
            Number(w, "latency_samples", r.Latency?.Count);
            Number(w, "latency_samples_dropped", r.Latency?.Dropped);
            Number(w, "max_running", r.MaxRunning);
            w.WriteNumber("involuntary_ctx_switches", r.InvoluntaryContextSwitches);
            w.WriteNumber("voluntary_ctx_switches", r.VoluntaryContextSwitches);
            Number(w, "involuntary_ctx_switches_per_s", r.WallSeconds > 0 ? r.InvoluntaryContextSwitches / r.WallSeconds : null);
            foreach (var (key, value) in r.Extra)
            {
                Number(w, key, value);
            }

            if (more is not null)
            {
                foreach (var (key, value) in more)
                {
                    w.WritePropertyName(key);
                    if (value is null)
                    {
                        w.WriteNullValue();
                    }
                    else
                    {
                        value.WriteTo(w);
                    }
                }
            }

            w.WriteStartArray("notes");
            foreach (string note in r.Notes)
            {
                w.WriteStringValue(note);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void Number(Utf8JsonWriter w, string name, double? value)
    {
        if (value is double d && double.IsFinite(d))
        {
            w.WriteNumber(name, Math.Round(d, 6));
        }
        else
        {
            w.WriteNull(name);
        }
    }
}
