using System.Globalization;
using Umcg.Abi;

namespace Umcg.Diagnostics;

/// <summary>Turns recorded events into a <see cref="TraceTimeline"/>: each worker's transitions become state intervals.</summary>
internal static class TimelineBuilder
{
    public static TraceTimeline Build(IReadOnlyList<TraceEvent> events, IReadOnlyList<TraceServer> servers, long dropped)
    {
        long start = events.Count > 0 ? events[0].TimestampNs : 0;
        long end = events.Count > 0 ? events[^1].TimestampNs : 0;

        var transitions = new SortedDictionary<int, List<TraceEvent>>();
        var names = new Dictionary<int, List<(long At, string? Name)>>();
        var finished = new Dictionary<int, List<long>>();
        var schedulerEvents = new List<TraceEvent>();
        foreach (var e in events)
        {
            switch (e.Kind)
            {
                case TraceEventKind.Transition:
                    ListOf(transitions, e.Tid).Add(e);
                    continue;
                case TraceEventKind.Demoted:
                case TraceEventKind.Adopted:
                    // They split a RUNNING interval: foreground, then background, then (adopted) foreground again.
                    ListOf(transitions, e.Tid).Add(e);
                    break;
                case TraceEventKind.Pick:
                case TraceEventKind.Switch:
                    ListOf(names, e.Tid).Add((e.TimestampNs, e.Name));
                    break;
                case TraceEventKind.BodyFinished:
                    ListOf(names, e.Tid).Add((e.TimestampNs, null));
                    ListOf(finished, e.Tid).Add(e.TimestampNs);
                    break;
            }

            schedulerEvents.Add(e);
        }

        var states = new List<StateInterval>();
        var runs = new List<RunInterval>();
        foreach (var (worker, list) in transitions)
        {
            AddWorker(worker, list, end, states, runs, names.GetValueOrDefault(worker), finished.GetValueOrDefault(worker));
        }

        runs.Sort(static (a, b) => a.StartNs != b.StartNs ? a.StartNs.CompareTo(b.StartNs) : a.ServerTid.CompareTo(b.ServerTid));
        return new TraceTimeline(
            start,
            end,
            AllServers(servers, runs),
            [.. transitions.Keys],
            states,
            runs,
            schedulerEvents,
            events.Count,
            dropped);
    }

    /// <summary>
    /// Walks one worker's transitions (in time order) as a state machine. Each transition's old state should be
    /// the state the previous one entered. A transition into the state the worker is already in changes
    /// nothing (a refused Wait putting a RUNNING worker back to RUNNING) and is skipped; two transitions stamped
    /// out of order (a wake and a detector's block racing within the clock's resolution) are swapped back.
    /// Anything else is a gap (dropped events): the walk starts again from the transition's new state.
    /// </summary>
    private static void AddWorker(
        int worker,
        List<TraceEvent> list,
        long end,
        List<StateInterval> states,
        List<RunInterval> runs,
        List<(long At, string? Name)>? names,
        List<long>? finished)
    {
        var emitter = new Emitter(worker, states, runs, names ?? [], finished ?? []);
        TaskState? state = null;
        long since = 0;
        int server = 0;
        int actor = 0;
        bool background = false;
        for (int i = 0; i < list.Count; i++)
        {
            var e = list[i];
            if (e.Kind is TraceEventKind.Demoted or TraceEventKind.Adopted)
            {
                // Only a RUNNING worker is demoted or adopted; one seen in another state left the background by itself
                // before the server's event was stamped, and its own transition ended the background already.
                if (state == TaskState.Running && background != (e.Kind == TraceEventKind.Demoted))
                {
                    long split = Math.Max(e.TimestampNs, since);
                    emitter.Emit(TaskState.Running, since, split, server, actor, TaskState.Running, isOpen: false, background);
                    since = split;
                    background = e.Kind == TraceEventKind.Demoted;
                    actor = e.ServerTid;
                }

                continue;
            }

            if (state is { } current && e.From != current)
            {
                if (e.To == current)
                {
                    continue;
                }

                if (i + 1 < list.Count && list[i + 1].From == current && list[i + 1].To == e.From)
                {
                    (list[i], list[i + 1]) = (list[i + 1], list[i]);
                    e = list[i];
                }
            }

            long at = Math.Max(e.TimestampNs, since);
            if (state is { } previous)
            {
                emitter.Emit(previous, since, at, server, actor, e.To, isOpen: false, background);
            }

            background = false;
            state = e.To;
            since = at;
            server = e.ServerTid;
            actor = e.OtherTid;
        }

        if (state is { } last)
        {
            emitter.Emit(last, since, Math.Max(since, end), server, actor, last, isOpen: true, background);
        }
    }

    /// <summary>
    /// Emits one worker's intervals in time order, with cursors over its body names and finished bodies (so a
    /// long trace is walked once, not once per interval).
    /// </summary>
    private sealed class Emitter(
        int worker, List<StateInterval> states, List<RunInterval> runs, List<(long At, string? Name)> names, List<long> finished)
    {
        private int _nextName;
        private string? _name;
        private int _nextFinished;

        public void Emit(TaskState state, long start, long stop, int server, int actor, TaskState next, bool isOpen, bool background)
        {
            if (state == TaskState.None)
            {
                return;
            }

            // The latest pick or switch at or before the start names the body, unless a body finished since.
            while (_nextName < names.Count && names[_nextName].At <= start)
            {
                _name = names[_nextName++].Name;
            }

            // Idle: a BLOCKED interval during which the worker finished its body (it waits in the pool).
            while (_nextFinished < finished.Count && finished[_nextFinished] < start)
            {
                _nextFinished++;
            }

            bool idle = state == TaskState.Blocked && _nextFinished < finished.Count && finished[_nextFinished] <= stop;
            states.Add(new StateInterval(worker, state, start, stop, server, actor, idle, isOpen, background));
            if (state == TaskState.Running && !background)
            {
                runs.Add(new RunInterval(worker, server, start, stop, _name, isOpen ? TaskState.Running : next, isOpen));
            }
        }
    }

    private static List<TraceServer> AllServers(IReadOnlyList<TraceServer> known, List<RunInterval> runs)
    {
        var all = known.OrderBy(s => s.Index).ThenBy(s => s.Tid).ToList();
        foreach (int tid in runs.Select(r => r.ServerTid).Distinct().Order())
        {
            if (!all.Exists(s => s.Tid == tid))
            {
                all.Add(new TraceServer(tid, -1, -1, string.Create(CultureInfo.InvariantCulture, $"server {tid}")));
            }
        }

        return all;
    }

    private static List<T> ListOf<T>(IDictionary<int, List<T>> map, int key)
    {
        if (!map.TryGetValue(key, out var list))
        {
            list = [];
            map[key] = list;
        }

        return list;
    }
}
