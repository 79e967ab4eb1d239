using System.Diagnostics.Metrics;
using Umcg.Diagnostics;

namespace Umcg.Tests.Diagnostics;

public sealed class MetricsTests
{
    /// <summary>A listener on the "Umcg" meter that keeps what one scheduler (by name) reports.</summary>
    private sealed class Collector : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly string _scheduler;

        public Collector(string scheduler)
        {
            _scheduler = scheduler;
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == UmcgMetrics.MeterName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>(On);
            _listener.SetMeasurementEventCallback<int>(On);
            _listener.SetMeasurementEventCallback<double>(On);
            _listener.Start();
        }

        public ConcurrentQueue<(string Instrument, double Value, Dictionary<string, object?> Tags)> Measurements { get; } = new();

        public void Collect() => _listener.RecordObservableInstruments();

        public List<(double Value, Dictionary<string, object?> Tags)> Of(string instrument) =>
            [.. Measurements.Where(m => m.Instrument == instrument).Select(m => (m.Value, m.Tags))];

        public double Last(string instrument, Func<Dictionary<string, object?>, bool>? where = null) =>
            Of(instrument).Last(m => where is null || where(m.Tags)).Value;

        public void Dispose() => _listener.Dispose();

        private void On<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
            where T : struct
        {
            var map = new Dictionary<string, object?>();
            foreach (var tag in tags)
            {
                map[tag.Key] = tag.Value;
            }

            if (map.TryGetValue(UmcgMetrics.SchedulerTag, out var name) && (string?)name == _scheduler)
            {
                Measurements.Enqueue((instrument.Name, Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture), map));
            }
        }
    }

    private static string UniqueName() => $"metrics-{Guid.NewGuid():N}";

    [Fact]
    public void The_demotion_instruments_count_a_demotion_and_its_restoration()
    {
        string name = UniqueName();
        using var collector = new Collector(name);
        var scheduler = SchedulerFixture.Create(servers: 1, options: SchedulerFixture.Undetected with
        {
            Name = name,
            Policy = () => new PriorityPolicy(Timeout.InfiniteTimeSpan),
        });
        Umcg.Tests.Demotion.DemotionScenario.RunSpinnerReleasedByHigher(scheduler);
        collector.Collect();
        Assert.Equal(1, collector.Last(UmcgMetrics.Names.Demotions));
        Assert.InRange(collector.Last(UmcgMetrics.Names.Adoptions), 0, 1);
        Assert.Equal(scheduler.DemotionMode == Umcg.Scheduling.Demotion.DemotionMode.Restorable ? 1 : 0, collector.Last(UmcgMetrics.Names.Restorations));
        Assert.Equal(0, collector.Last(UmcgMetrics.Names.Background));
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void A_listener_sees_the_instruments_move_while_a_scheduler_runs_workers()
    {
        string name = UniqueName();
        using var collector = new Collector(name);
        // Every switch through the server, as the RFC has it, so that each one is a pick the server counts.
        var scheduler = SchedulerFixture.Create(servers: 1, options: new UmcgSchedulerOptions { Name = name, DirectSuccessor = false, QuietArrivals = false, OpenIdleServers = false });
        collector.Collect();
        double switchesBefore = collector.Last(UmcgMetrics.Names.Switches);

        var handles = Enumerable.Range(0, 3).Select(_ => scheduler.Spawn(() =>
        {
            for (int i = 0; i < 5; i++)
            {
                Worker.Yield();
            }

            using (Worker.Blocking())
            {
            }
        })).ToArray();
        SchedulerFixture.WaitAll(scheduler, handles);
        Watchdog.Until(() => scheduler.Stats.Completed == 3, scheduler.Kernel, "bodies counted as completed"); // counted after the handles complete
        collector.Collect();

        Assert.True(collector.Last(UmcgMetrics.Names.Switches) >= switchesBefore + (3 * 7), "every start and every yield and unblock is a pick");
        Assert.Equal(3, collector.Last(UmcgMetrics.Names.Blocks, t => (string?)t[UmcgMetrics.DetectorTag] == BlockDetector.Explicit));
        Assert.Equal(0, collector.Last(UmcgMetrics.Names.Blocks, t => (string?)t[UmcgMetrics.DetectorTag] == BlockDetector.Detector));
        Assert.Equal(3, collector.Last(UmcgMetrics.Names.Spawned));
        Assert.Equal(3, collector.Last(UmcgMetrics.Names.Completed));
        Assert.Equal(0, collector.Last(UmcgMetrics.Names.DirectSwitches));
        Assert.Equal(0, collector.Last(UmcgMetrics.Names.SuccessorSwitches));
        Assert.Equal(0, collector.Last(UmcgMetrics.Names.DirectStarts));
        Assert.Equal(0, collector.Last(UmcgMetrics.Names.RunQueueLength));
        Assert.Equal(0, collector.Last(UmcgMetrics.Names.Preemptions));
        Assert.Equal(0, collector.Last(UmcgMetrics.Names.Steals));
        Assert.Equal(0, collector.Last(UmcgMetrics.Names.HandOvers));
        Assert.True(collector.Last(UmcgMetrics.Names.BusyTime) > 0);
        Assert.InRange(collector.Last(UmcgMetrics.Names.Utilization), 0.0, 1.0);
        Assert.All(collector.Of(UmcgMetrics.Names.RunQueueLength), m => Assert.Equal(0, m.Tags[UmcgMetrics.ServerTag]));

        // Histograms are recorded as things happen: a latency per start, a duration per blocking region.
        var latencies = collector.Of(UmcgMetrics.Names.RunQueueLatency);
        Assert.True(latencies.Count >= 3 * 7, $"{latencies.Count} run-queue latencies");
        Assert.All(latencies, m => Assert.True(m.Value >= 0));
        var blocked = collector.Of(UmcgMetrics.Names.BlockedDuration);
        Assert.Equal(3, blocked.Count);
        Assert.All(blocked, m => Assert.Equal(BlockDetector.Explicit, m.Tags[UmcgMetrics.DetectorTag]));

        SchedulerFixture.Shutdown(scheduler);

        // A scheduler that shut down is no longer reported.
        collector.Measurements.Clear();
        collector.Collect();
        Assert.Empty(collector.Measurements);
    }

    [Fact]
    public void Every_named_instrument_is_published_on_the_Umcg_meter_once_a_scheduler_runs()
    {
        var scheduler = SchedulerFixture.Create(servers: 1);
        var published = new ConcurrentDictionary<string, string?>();
        using (var listener = new MeterListener())
        {
            listener.InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == UmcgMetrics.MeterName)
                {
                    published[instrument.Name] = instrument.Unit;
                }
            };
            listener.Start();
        }

        var names = typeof(UmcgMetrics.Names).GetFields().Select(f => (string)f.GetRawConstantValue()!).ToList();
        Assert.Equal(19, names.Count);
        Assert.Equal(names.Order(), published.Keys.Order());
        Assert.Equal("us", published[UmcgMetrics.Names.RunQueueLatency]);
        Assert.Equal("s", published[UmcgMetrics.Names.BusyTime]);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void A_block_made_by_a_detector_is_tagged_as_such()
    {
        string name = UniqueName();
        using var collector = new Collector(name);
        var scheduler = SchedulerFixture.Create(servers: 1, options: new UmcgSchedulerOptions { Name = name });
        SchedulerFixture.RunWorkerMarkedBlocked(scheduler);
        collector.Collect();

        Assert.Equal(1, collector.Last(UmcgMetrics.Names.Blocks, t => (string?)t[UmcgMetrics.DetectorTag] == BlockDetector.Detector));
        var blocked = Assert.Single(collector.Of(UmcgMetrics.Names.BlockedDuration));
        Assert.Equal(BlockDetector.Detector, blocked.Tags[UmcgMetrics.DetectorTag]);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void Server_samples_report_the_counters_behind_the_instruments()
    {
        var scheduler = SchedulerFixture.Create(servers: 2, options: new UmcgSchedulerOptions { DirectSuccessor = false, QuietArrivals = false, OpenIdleServers = false });
        var handles = Enumerable.Range(0, 4).Select(_ => scheduler.Spawn(Worker.Yield)).ToArray();
        SchedulerFixture.WaitAll(scheduler, handles);
        var samples = scheduler.SampleServers();
        Assert.Equal([0, 1], samples.Select(s => s.Index));
        Assert.All(samples, s => Assert.True(s.Tid > 0));
        Assert.True(samples.Sum(s => s.Switches) >= 8);
        Assert.True(samples.Sum(s => s.BusyTime.Ticks) > 0);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void Busy_time_counts_from_the_turn_a_worker_is_picked_to_the_turn_the_slot_is_found_empty()
    {
        var counters = new ServerCounters();
        counters.AccountBusy(100, busy: false);
        Assert.Equal(0, counters.BusyNs);
        counters.AccountBusy(200, busy: true);
        counters.AccountBusy(250, busy: true);
        Assert.Equal(50, counters.BusyNs);
        counters.AccountBusy(300, busy: false);
        Assert.Equal(100, counters.BusyNs);
        Assert.Equal(0, counters.BusySinceNs);
        counters.AccountBusy(400, busy: false);
        Assert.Equal(100, counters.BusyNs);
    }
}
