using System.Text.Json;
using Umcg.Diagnostics;

namespace Umcg.Cli.Reporting;

/// <summary>
/// What the scheduler's <see cref="TraceRecorder"/> recorded during the run — a track per server with the worker
/// it ran, a track per worker with its RUNNING / RUNNABLE / BLOCKED spans, and the scheduler's decisions — as
/// events of the run's trace.json.
/// </summary>
internal sealed class RecordedTrace(TraceRecorder recorder) : ITraceSource
{
    private readonly TraceTimeline _timeline = recorder.BuildTimeline();

    /// <summary>The CLOCK_MONOTONIC time (ns) that the recorded events' timestamps count from.</summary>
    public long OriginNs => _timeline.StartNs;

    /// <summary>How many events were recorded.</summary>
    public long Events => _timeline.EventCount;

    /// <summary>How many events did not fit in the recorder: the recorded trace ends before the run does.</summary>
    public long Dropped => _timeline.Dropped;

    public void WriteEvents(Utf8JsonWriter writer) => ChromeTraceWriter.WriteEvents(writer, _timeline);
}
