using System.Globalization;
using System.Text.Json;
using Umcg.Abi;

namespace Umcg.Diagnostics;

/// <summary>
/// Writes a <see cref="TraceTimeline"/> in the Trace Event Format read by ui.perfetto.dev and chrome://tracing:
/// <c>{"traceEvents":[...]}</c> with "M" events naming the tracks, "X" complete events for intervals and "i"
/// instant events for scheduler decisions.
/// </summary>
/// <remarks>
/// Two "processes" group the tracks: servers (one track per server: a slice per interval a worker ran for it,
/// named after the worker) and workers (one track per worker: RUNNING, RUNNABLE, BLOCKED and IDLE slices).
/// Times are microseconds from the trace's first event, with nanosecond decimals.
/// </remarks>
internal static class ChromeTraceWriter
{
    public const int ServersPid = 1;
    public const int WorkersPid = 2;

    public static void Write(Stream stream, TraceTimeline timeline, int capacity)
    {
        using var json = new Utf8JsonWriter(stream);
        json.WriteStartObject();
        json.WriteString("displayTimeUnit", "ns");
        json.WriteStartObject("otherData");
        json.WriteString("source", "Umcg");
        json.WriteNumber("capacity", capacity);
        json.WriteNumber("events", timeline.EventCount);
        json.WriteNumber("dropped", timeline.Dropped);
        json.WriteNumber("startNs", timeline.StartNs);
        json.WriteEndObject();

        json.WriteStartArray("traceEvents");
        WriteEvents(json, timeline);
        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>
    /// Writes the timeline's events as elements of an open traceEvents array (timestamps from
    /// <see cref="TraceTimeline.StartNs"/>): for a trace file that holds other sources too.
    /// </summary>
    public static void WriteEvents(Utf8JsonWriter json, TraceTimeline timeline)
    {
        WriteProcess(json, ServersPid, "UMCG servers", 0);
        WriteProcess(json, WorkersPid, "UMCG workers", 1);
        foreach (var server in timeline.Servers)
        {
            WriteThread(json, ServersPid, server.Tid, server.Name, server.Index < 0 ? server.Tid : server.Index);
        }

        foreach (int worker in timeline.Workers)
        {
            WriteThread(json, WorkersPid, worker, WorkerName(worker), worker);
        }

        var origin = timeline.StartNs;
        foreach (var group in timeline.Runs.GroupBy(r => r.ServerTid))
        {
            // One worker at a time per server: clip the stamps' jitter so that slices on a track never overlap.
            long free = long.MinValue;
            foreach (var run in group)
            {
                long start = Math.Max(run.StartNs, free);
                long end = Math.Max(start, run.EndNs);
                free = end;
                WriteSlice(json, ServersPid, run.ServerTid, run.Name ?? WorkerName(run.WorkerTid), start - origin, end - start, (json, r) =>
                {
                    json.WriteNumber("worker", r.WorkerTid);
                    json.WriteString("ended", r.IsOpen ? "still running" : r.EndedIn.ToString().ToUpperInvariant());
                }, run);
            }
        }

        foreach (var state in timeline.States)
        {
            WriteSlice(json, WorkersPid, state.WorkerTid, SliceName(state), state.StartNs - origin, state.DurationNs, (json, s) =>
            {
                json.WriteNumber("server", s.ServerTid);
                json.WriteNumber("by", s.ActorTid);
                if (s.IsBlockedOnBehalf)
                {
                    json.WriteBoolean("onBehalf", true);
                }
            }, state);
        }

        foreach (var e in timeline.SchedulerEvents)
        {
            if (e.Kind is TraceEventKind.Pick or TraceEventKind.BodyFinished)
            {
                continue; // a pick is the start of a server's slice; a finished body, the start of an IDLE slice
            }

            WriteInstant(json, e, e.TimestampNs - origin);
        }
    }

    private static string WorkerName(int tid) => string.Create(CultureInfo.InvariantCulture, $"worker {tid}");

    private static string SliceName(StateInterval s) => s.State switch
    {
        TaskState.Running when s.IsBackground => "BACKGROUND",
        TaskState.Running => "RUNNING",
        TaskState.Runnable => "RUNNABLE",
        TaskState.Blocked when s.IsIdle => "IDLE",
        TaskState.Blocked => "BLOCKED",
        _ => s.State.ToString().ToUpperInvariant(),
    };

    private static void WriteProcess(Utf8JsonWriter json, int pid, string name, int sortIndex)
    {
        WriteMetadata(json, pid, 0, "process_name", "name", name);
        WriteMetadata(json, pid, 0, "process_sort_index", "sort_index", sortIndex);
    }

    private static void WriteThread(Utf8JsonWriter json, int pid, int tid, string name, int sortIndex)
    {
        WriteMetadata(json, pid, tid, "thread_name", "name", name);
        WriteMetadata(json, pid, tid, "thread_sort_index", "sort_index", sortIndex);
    }

    private static void WriteMetadata(Utf8JsonWriter json, int pid, int tid, string name, string arg, object value)
    {
        json.WriteStartObject();
        json.WriteString("name", name);
        json.WriteString("ph", "M");
        json.WriteNumber("pid", pid);
        json.WriteNumber("tid", tid);
        json.WriteStartObject("args");
        if (value is int number)
        {
            json.WriteNumber(arg, number);
        }
        else
        {
            json.WriteString(arg, (string)value);
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteSlice<T>(Utf8JsonWriter json, int pid, int tid, string name, long startNs, long durationNs, Action<Utf8JsonWriter, T> args, T state)
    {
        json.WriteStartObject();
        json.WriteString("name", name);
        json.WriteString("cat", "umcg");
        json.WriteString("ph", "X");
        json.WriteNumber("ts", Micros(startNs));
        json.WriteNumber("dur", Micros(Math.Max(0, durationNs)));
        json.WriteNumber("pid", pid);
        json.WriteNumber("tid", tid);
        json.WriteStartObject("args");
        args(json, state);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteInstant(Utf8JsonWriter json, TraceEvent e, long atNs)
    {
        json.WriteStartObject();
        json.WriteString("name", e.Kind switch
        {
            TraceEventKind.Switch => "switch",
            TraceEventKind.Steal => "steal",
            TraceEventKind.HandOver => "hand-over",
            TraceEventKind.PreemptRequest => "preempt request",
            _ => e.Kind.ToString(),
        });
        json.WriteString("cat", "umcg");
        json.WriteString("ph", "i");
        json.WriteString("s", "t");
        json.WriteNumber("ts", Micros(atNs));
        json.WriteNumber("pid", ServersPid);
        json.WriteNumber("tid", e.ServerTid);
        json.WriteStartObject("args");
        json.WriteNumber("worker", e.Tid);
        if (e.OtherTid != 0)
        {
            json.WriteNumber(e.Kind switch
            {
                TraceEventKind.Switch => "from",
                TraceEventKind.Steal => "victim",
                TraceEventKind.HandOver => "to",
                _ => "other",
            }, e.OtherTid);
        }

        if (e.Name is not null)
        {
            json.WriteString("body", e.Name);
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static double Micros(long ns) => ns / 1000.0;
}
