using Umcg.Abi;
using Umcg.Kernel;
using Umcg.Scheduling;

namespace Umcg.Diagnostics;

/// <summary>Tracing and sampling a running <see cref="UmcgScheduler"/>.</summary>
/// <example>
/// <code>
/// var trace = scheduler.StartTrace(capacity: 1_000_000);
/// // ... run the workload ...
/// scheduler.StopTrace();
/// trace.WriteChromeTrace("umcg-trace.json");        // open in https://ui.perfetto.dev
/// var timeline = trace.BuildTimeline();              // or plot from the intervals
/// </code>
/// </example>
public static class SchedulerDiagnostics
{
    /// <summary>Starts recording the scheduler into a new recorder of <paramref name="capacity"/> events.</summary>
    /// <exception cref="InvalidOperationException">The scheduler is already tracing.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is not positive.</exception>
    public static TraceRecorder StartTrace(this UmcgScheduler scheduler, int capacity = TraceRecorder.DefaultCapacity)
    {
        var recorder = new TraceRecorder(capacity);
        StartTrace(scheduler, recorder);
        return recorder;
    }

    /// <summary>
    /// Starts recording the scheduler into <paramref name="recorder"/>: its workers' state transitions and its
    /// servers' decisions. Several schedulers may record into one recorder.
    /// </summary>
    /// <exception cref="InvalidOperationException">The scheduler is already tracing.</exception>
    public static void StartTrace(this UmcgScheduler scheduler, TraceRecorder recorder)
    {
        ArgumentNullException.ThrowIfNull(scheduler);
        ArgumentNullException.ThrowIfNull(recorder);
        scheduler.Telemetry.StartTrace(recorder);
    }

    /// <summary>Stops recording; returns the recorder, or null if the scheduler was not tracing. Shutdown stops it too.</summary>
    public static TraceRecorder? StopTrace(this UmcgScheduler scheduler)
    {
        ArgumentNullException.ThrowIfNull(scheduler);
        return scheduler.Telemetry.StopTrace();
    }

    /// <summary>The recorder the scheduler records into now, or null.</summary>
    public static TraceRecorder? CurrentTrace(this UmcgScheduler scheduler)
    {
        ArgumentNullException.ThrowIfNull(scheduler);
        return scheduler.Telemetry.Recorder;
    }

    /// <summary>What each server has done so far (the totals behind the meter's per-server instruments).</summary>
    public static IReadOnlyList<ServerSample> SampleServers(this UmcgScheduler scheduler)
    {
        ArgumentNullException.ThrowIfNull(scheduler);
        long now = KernelClock.Now(ClockId.Monotonic);
        return
        [
            .. scheduler.Servers.Select(s => new ServerSample(
                s.Index,
                s.Tid,
                s.Cpu,
                s.QueueLength,
                Volatile.Read(ref s.Counters.Switches),
                Volatile.Read(ref s.Counters.Preemptions),
                Volatile.Read(ref s.Counters.Steals),
                Volatile.Read(ref s.Counters.HandedOver),
                TimeSpan.FromTicks(SchedulerTelemetry.BusyNs(s, now) / 100))),
        ];
    }
}
