using Umcg.Abi;

namespace Umcg.Diagnostics;

/// <summary>
/// A recorded trace as intervals: what each worker was doing (<see cref="States"/>) and which worker each
/// server ran (<see cref="Runs"/>), with the scheduler's decisions beside them. What a report plots from:
/// utilization over time per server, run-queue latency and blocked-time distributions.
/// </summary>
public sealed class TraceTimeline
{
    internal TraceTimeline(
        long startNs,
        long endNs,
        IReadOnlyList<TraceServer> servers,
        IReadOnlyList<int> workers,
        IReadOnlyList<StateInterval> states,
        IReadOnlyList<RunInterval> runs,
        IReadOnlyList<TraceEvent> schedulerEvents,
        long eventCount,
        long dropped)
    {
        StartNs = startNs;
        EndNs = endNs;
        Servers = servers;
        Workers = workers;
        States = states;
        Runs = runs;
        SchedulerEvents = schedulerEvents;
        EventCount = eventCount;
        Dropped = dropped;
    }

    /// <summary>The first event's time (monotonic clock, ns); 0 for an empty trace.</summary>
    public long StartNs { get; }

    /// <summary>The last event's time; intervals still open then end here.</summary>
    public long EndNs { get; }

    /// <summary>From the first event to the last.</summary>
    public TimeSpan Duration => TimeSpan.FromTicks((EndNs - StartNs) / 100);

    /// <summary>Every server: those named by the schedulers the recorder was attached to, then any other a worker ran for.</summary>
    public IReadOnlyList<TraceServer> Servers { get; }

    /// <summary>The TIDs of the workers seen, ascending.</summary>
    public IReadOnlyList<int> Workers { get; }

    /// <summary>What each worker was doing, ordered by worker and then time.</summary>
    public IReadOnlyList<StateInterval> States { get; }

    /// <summary>Every interval a worker ran for a server, ordered by start.</summary>
    public IReadOnlyList<RunInterval> Runs { get; }

    /// <summary>The scheduler's events (picks, switches, steals, hand-overs, preemption requests, finished bodies) in time order.</summary>
    public IReadOnlyList<TraceEvent> SchedulerEvents { get; }

    /// <summary>How many events the timeline was built from.</summary>
    public long EventCount { get; }

    /// <summary>Events the recorder dropped because it was full: the timeline ends early.</summary>
    public long Dropped { get; }

    /// <summary>The intervals <paramref name="serverTid"/> ran a worker, in time order.</summary>
    public IEnumerable<RunInterval> RunsOn(int serverTid) => Runs.Where(r => r.ServerTid == serverTid);

    /// <summary>What <paramref name="workerTid"/> was doing, in time order.</summary>
    public IEnumerable<StateInterval> StatesOf(int workerTid) => States.Where(s => s.WorkerTid == workerTid);

    /// <summary>
    /// Run-queue latency samples in microseconds, ascending: every RUNNABLE interval that ended with the worker
    /// running (from runnable_ts to the moment a server or another worker started it). Index <c>i</c> of
    /// <c>n</c> is the <c>(i + 1) / n</c> point of the CDF.
    /// </summary>
    public double[] RunQueueLatenciesMicroseconds()
    {
        // States is ordered by worker, then time: a sample is a RUNNABLE interval followed by a RUNNING one.
        var samples = new List<double>();
        for (int i = 0; i + 1 < States.Count; i++)
        {
            var queued = States[i];
            var next = States[i + 1];
            if (queued.State == TaskState.Runnable && next.State == TaskState.Running && next.WorkerTid == queued.WorkerTid)
            {
                samples.Add(queued.DurationNs / 1000.0);
            }
        }

        return Sorted(samples);
    }

    /// <summary>Blocked-time samples in microseconds, ascending: every closed BLOCKED interval of a worker with a body (idle pooled threads are left out).</summary>
    public double[] BlockedMicroseconds() => Sorted(States
        .Where(s => s.State == TaskState.Blocked && !s.IsOpen && !s.IsIdle)
        .Select(s => s.DurationNs / 1000.0));

    /// <summary>The fraction of the trace's duration during which a worker ran for <paramref name="serverTid"/>.</summary>
    public double Utilization(int serverTid)
    {
        long span = EndNs - StartNs;
        return span <= 0 ? 0 : Math.Min(1.0, RunsOn(serverTid).Sum(r => Overlap(r, StartNs, EndNs)) / (double)span);
    }

    /// <summary>
    /// Utilization of <paramref name="serverTid"/> per consecutive window of <paramref name="bucket"/> from
    /// <see cref="StartNs"/> (the last window may be shorter): the fraction of each window a worker ran for it.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bucket"/> is not positive.</exception>
    public double[] UtilizationOverTime(int serverTid, TimeSpan bucket)
    {
        long width = (long)bucket.TotalNanoseconds;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width, nameof(bucket));
        long span = EndNs - StartNs;
        if (span <= 0)
        {
            return [];
        }

        int count = (int)Math.Min(int.MaxValue, (span + width - 1) / width);
        var busy = new double[count];
        foreach (var run in RunsOn(serverTid))
        {
            long start = Math.Max(run.StartNs, StartNs);
            long end = Math.Min(run.EndNs, EndNs);
            for (long t = start; t < end;)
            {
                int i = (int)((t - StartNs) / width);
                long bucketEnd = StartNs + ((i + 1) * width);
                long upTo = Math.Min(end, bucketEnd);
                busy[i] += upTo - t;
                t = upTo;
            }
        }

        for (int i = 0; i < count; i++)
        {
            long windowEnd = Math.Min(EndNs, StartNs + ((i + 1) * width));
            long windowStart = StartNs + (i * width);
            busy[i] = Math.Min(1.0, busy[i] / Math.Max(1, windowEnd - windowStart));
        }

        return busy;
    }

    /// <summary>The value below which a fraction <paramref name="p"/> (0 to 1) of <paramref name="sorted"/> lies (nearest rank); NaN when empty.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double p)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        if (sorted.Count == 0)
        {
            return double.NaN;
        }

        int rank = (int)Math.Ceiling(Math.Clamp(p, 0, 1) * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }

    internal static TraceTimeline Build(IReadOnlyList<TraceEvent> events, IReadOnlyList<TraceServer> servers, long dropped) =>
        TimelineBuilder.Build(events, servers, dropped);

    private static long Overlap(RunInterval run, long start, long end) => Math.Max(0, Math.Min(run.EndNs, end) - Math.Max(run.StartNs, start));

    private static double[] Sorted(IEnumerable<double> values)
    {
        var array = values.ToArray();
        Array.Sort(array);
        return array;
    }
}
