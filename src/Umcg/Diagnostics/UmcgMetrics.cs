using System.Diagnostics.Metrics;
using Umcg.Abi;
using Umcg.Kernel;
using Umcg.Scheduling;

namespace Umcg.Diagnostics;

/// <summary>
/// The "Umcg" <see cref="Meter"/>: what every running scheduler does, for dotnet-counters
/// (<c>dotnet-counters monitor --counters Umcg -n &lt;process&gt;</c>), OpenTelemetry (<c>AddMeter("Umcg")</c>) or
/// a <see cref="MeterListener"/>.
/// </summary>
/// <remarks>
/// <para>Counters and gauges are observable: they read totals the scheduler keeps anyway when a listener
/// collects, so nothing is paid on the scheduling path for them. The two histograms are recorded where the
/// measurement happens, after checking <see cref="Instrument.Enabled"/>: one branch while nobody listens.</para>
/// <para>Tags: <see cref="SchedulerTag"/> (the scheduler's <c>Name</c> option) on everything,
/// <see cref="ServerTag"/> (the server's index) on per-server instruments, <see cref="DetectorTag"/>
/// (<see cref="BlockDetector"/>) on blocking. Give schedulers that run side by side different names.</para>
/// </remarks>
public static class UmcgMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Umcg";

    /// <summary>Tag: the scheduler's name (<c>UmcgSchedulerOptions.Name</c>).</summary>
    public const string SchedulerTag = "umcg.scheduler";

    /// <summary>Tag: the server's index in its scheduler (an int).</summary>
    public const string ServerTag = "umcg.server";

    /// <summary>Tag: how the block was detected, a <see cref="BlockDetector"/> value.</summary>
    public const string DetectorTag = "umcg.detector";

    private static readonly double[] s_microsecondBuckets =
        [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 1_000_000, 10_000_000];

    internal static readonly Meter Meter = new(MeterName, "1.0");

    /// <summary>See <see cref="Names.RunQueueLatency"/>.</summary>
    internal static readonly Histogram<double> RunQueueLatency = Meter.CreateHistogram(
        Names.RunQueueLatency,
        "us",
        "Time a worker waited runnable (from its runnable_ts) until a server or a switching worker started it.",
        tags: null,
        new InstrumentAdvice<double> { HistogramBucketBoundaries = s_microsecondBuckets });

    /// <summary>See <see cref="Names.BlockedDuration"/>.</summary>
    internal static readonly Histogram<double> BlockedDuration = Meter.CreateHistogram(
        Names.BlockedDuration,
        "us",
        "Time a worker was blocked, from blocked_ts to runnable_ts.",
        tags: null,
        new InstrumentAdvice<double> { HistogramBucketBoundaries = s_microsecondBuckets });

    // The observable instruments; the meter keeps them too, this keeps them in one place.
    private static readonly Instrument[] s_observable = CreateObservable();

    /// <summary>Creates the meter and its instruments if nothing has yet, so that listeners see them once a scheduler runs.</summary>
    internal static void EnsureCreated() => GC.KeepAlive(s_observable);

    /// <summary>The instruments' names.</summary>
    public static class Names
    {
        /// <summary>Counter (<c>{switch}</c>, per server): workers a server picked and started.</summary>
        public const string Switches = "umcg.server.switches";

        /// <summary>Counter (<c>{switch}</c>, per scheduler): worker → worker switches through next_tid, without the server.</summary>
        public const string DirectSwitches = "umcg.worker.direct_switches";

        /// <summary>Counter (<c>{switch}</c>, per scheduler): direct successors, a stopping worker handing its CPU to the next queued worker without the server.</summary>
        public const string SuccessorSwitches = "umcg.worker.successor_switches";

        /// <summary>Counter (<c>{start}</c>, per scheduler): workers that started themselves on a server asleep with nothing to run, with no pick and no switch through it.</summary>
        public const string DirectStarts = "umcg.worker.direct_starts";

        /// <summary>Counter (<c>{worker}</c>, per scheduler): workers moved to the background because they overstayed a give-way without a safepoint.</summary>
        public const string Demotions = "umcg.worker.demotions";

        /// <summary>Counter (<c>{worker}</c>, per scheduler): background workers their server took back into the foreground.</summary>
        public const string Adoptions = "umcg.worker.adoptions";

        /// <summary>Counter (<c>{thread}</c>, per scheduler): demoted threads put back at their own priority.</summary>
        public const string Restorations = "umcg.worker.restorations";

        /// <summary>Gauge (<c>{worker}</c>, per scheduler): workers running in the background now.</summary>
        public const string Background = "umcg.worker.background";

        /// <summary>Counter (<c>{block}</c>, per scheduler and <see cref="DetectorTag"/>): workers that went BLOCKED.</summary>
        public const string Blocks = "umcg.worker.blocks";

        /// <summary>Counter (<c>{preemption}</c>, per server): running workers asked to give way (time slice, or a more urgent worker).</summary>
        public const string Preemptions = "umcg.server.preemptions";

        /// <summary>Counter (<c>{worker}</c>, per server): queued workers this (idle) server took from a busy one.</summary>
        public const string Steals = "umcg.server.steals";

        /// <summary>Counter (<c>{worker}</c>, per server): queued workers this (busy) server handed to an idle one.</summary>
        public const string HandOvers = "umcg.server.handovers";

        /// <summary>Gauge (<c>{worker}</c>, per server): runnable workers queued on the server.</summary>
        public const string RunQueueLength = "umcg.server.run_queue.length";

        /// <summary>Counter (<c>s</c>, per server): time a worker ran for the server. Its rate is the server's utilization.</summary>
        public const string BusyTime = "umcg.server.busy_time";

        /// <summary>Gauge (<c>1</c>, per server): the fraction of time a worker ran for the server since the previous observation of this gauge.</summary>
        public const string Utilization = "umcg.server.utilization";

        /// <summary>Histogram (<c>us</c>, per server): run-queue latency, from a worker's runnable_ts until it is started.</summary>
        public const string RunQueueLatency = "umcg.worker.run_queue.latency";

        /// <summary>Histogram (<c>us</c>, per scheduler and <see cref="DetectorTag"/>): blocked time, blocked_ts → runnable_ts.</summary>
        public const string BlockedDuration = "umcg.worker.blocked.duration";

        /// <summary>Counter (<c>{body}</c>, per scheduler): bodies spawned.</summary>
        public const string Spawned = "umcg.workers.spawned";

        /// <summary>Counter (<c>{body}</c>, per scheduler): bodies finished (in any way).</summary>
        public const string Completed = "umcg.workers.completed";
    }

    private static Instrument[] CreateObservable() =>
    [
        Meter.CreateObservableCounter(Names.Switches, () => PerServer((_, s, _) => s.Counters.Switches), "{switch}", "Workers a server picked and started."),
        Meter.CreateObservableCounter(Names.DirectSwitches, () => PerScheduler(t => t.Scheduler.Stats.DirectSwitches), "{switch}", "Worker-to-worker switches through next_tid."),
        Meter.CreateObservableCounter(Names.SuccessorSwitches, () => PerScheduler(t => t.Scheduler.Stats.SuccessorSwitches), "{switch}", "Direct successors: worker-to-worker switches picked by the stopping worker."),
        Meter.CreateObservableCounter(Names.DirectStarts, () => PerScheduler(t => t.Scheduler.Stats.DirectStarts), "{start}", "Workers that started themselves on a server asleep with nothing to run."),
        Meter.CreateObservableCounter(Names.Demotions, () => PerScheduler(t => t.Scheduler.Stats.Demotions), "{worker}", "Workers moved to the background: they overstayed a give-way without a safepoint."),
        Meter.CreateObservableCounter(Names.Adoptions, () => PerScheduler(t => t.Scheduler.Stats.Adoptions), "{worker}", "Background workers taken back into the foreground."),
        Meter.CreateObservableCounter(Names.Restorations, () => PerScheduler(t => t.Scheduler.Stats.Restorations), "{thread}", "Demoted threads put back at their own priority."),
        Meter.CreateObservableGauge(Names.Background, () => PerScheduler(t => (long)t.Scheduler.Stats.BackgroundWorkers), "{worker}", "Workers running in the background now."),
        Meter.CreateObservableCounter(Names.Blocks, Blocks, "{block}", "Workers that went BLOCKED, by detector."),
        Meter.CreateObservableCounter(Names.Preemptions, () => PerServer((_, s, _) => s.Counters.Preemptions), "{preemption}", "Running workers asked to give way."),
        Meter.CreateObservableCounter(Names.Steals, () => PerServer((_, s, _) => s.Counters.Steals), "{worker}", "Queued workers taken from a busy server."),
        Meter.CreateObservableCounter(Names.HandOvers, () => PerServer((_, s, _) => s.Counters.HandedOver), "{worker}", "Queued workers handed to an idle server."),
        Meter.CreateObservableGauge(Names.RunQueueLength, () => PerServer((_, s, _) => s.QueueLength), "{worker}", "Runnable workers queued on the server."),
        Meter.CreateObservableCounter(Names.BusyTime, () => PerServer((_, s, now) => SchedulerTelemetry.BusyNs(s, now) / 1e9), "s", "Time a worker ran for the server."),
        Meter.CreateObservableGauge(Names.Utilization, () => PerServer((t, s, now) => t.SampleUtilization(s, now)), "1", "Fraction of time a worker ran for the server since the previous observation."),
        Meter.CreateObservableCounter(Names.Spawned, () => PerScheduler(t => t.Scheduler.Stats.Spawned), "{body}", "Bodies spawned."),
        Meter.CreateObservableCounter(Names.Completed, () => PerScheduler(t => t.Scheduler.Stats.Completed), "{body}", "Bodies finished."),
    ];

    private static List<Measurement<T>> PerServer<T>(Func<SchedulerTelemetry, Server, long, T> read)
        where T : struct
    {
        long now = KernelClock.Now(ClockId.Monotonic);
        var measurements = new List<Measurement<T>>();
        foreach (var telemetry in SchedulerRegistry.Live)
        {
            var servers = telemetry.Scheduler.Servers;
            for (int i = 0; i < servers.Length; i++)
            {
                measurements.Add(new Measurement<T>(read(telemetry, servers[i], now), telemetry.ServerTags(i)));
            }
        }

        return measurements;
    }

    private static List<Measurement<long>> PerScheduler(Func<SchedulerTelemetry, long> read)
    {
        var measurements = new List<Measurement<long>>();
        foreach (var telemetry in SchedulerRegistry.Live)
        {
            measurements.Add(new Measurement<long>(read(telemetry), telemetry.SchedulerTags));
        }

        return measurements;
    }

    private static List<Measurement<long>> Blocks()
    {
        var measurements = new List<Measurement<long>>();
        foreach (var telemetry in SchedulerRegistry.Live)
        {
            measurements.Add(new Measurement<long>(telemetry.Scheduler.Stats.Blocks, telemetry.BlockTags(detector: false)));
            measurements.Add(new Measurement<long>(telemetry.Scheduler.Stats.DetectorBlocks, telemetry.BlockTags(detector: true)));
        }

        return measurements;
    }
}
