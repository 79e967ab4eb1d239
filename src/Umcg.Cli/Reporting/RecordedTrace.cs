using System.Text.Json;
using Umcg.Diagnostics;

namespace Umcg.Cli.Reporting;

/// <summary>
/// What the scheduler's <see cref="TraceRecorder"/> recorded during the run — a track per server with the worker
/// it ran, a track per worker with its RUNNING / RUNNABLE / BLOCKED spans, and the scheduler's decisions — as
/// events of the run's trace.json.
/// </summary>
internal sealed class RecordedTrace : ITraceSource
{
    private readonly JsonDocument _document;

    public RecordedTrace(TraceRecorder recorder)
    {
        ArgumentNullException.ThrowIfNull(recorder);
        using var buffer = new MemoryStream();
        recorder.WriteChromeTrace(buffer);
        buffer.Position = 0;
        _document = JsonDocument.Parse(buffer);
        var other = _document.RootElement.GetProperty("otherData");
        OriginNs = other.GetProperty("startNs").GetInt64();
        Events = other.GetProperty("events").GetInt64();
        Dropped = other.GetProperty("dropped").GetInt64();
    }

    /// <summary>The CLOCK_MONOTONIC time (ns) that the recorded events' timestamps count from.</summary>
    public long OriginNs { get; }

    /// <summary>How many events were recorded.</summary>
    public long Events { get; }

    /// <summary>How many events did not fit in the recorder: the recorded trace ends before the run does.</summary>
    public long Dropped { get; }

    public void WriteEvents(Utf8JsonWriter writer)
    {
        foreach (var e in _document.RootElement.GetProperty("traceEvents").EnumerateArray())
        {
            e.WriteTo(writer);
        }
    }
}
