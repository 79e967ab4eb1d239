using System.Globalization;
using Umcg.Abi;
using Umcg.Kernel;
using Umcg.Scheduling;

namespace Umcg.Diagnostics;

/// <summary>
/// One scheduler's diagnostics: its place among the schedulers the meter reports on, its trace recorder while
/// tracing, and the probes its servers and workers call (SchedulerTelemetry.Probes.cs).
/// </summary>
internal sealed partial class SchedulerTelemetry
{
    private readonly Lock _lock = new();
    private KeyValuePair<string, object?>[][] _serverTags = [];
    private KeyValuePair<string, object?>[] _explicitBlockTags = [];
    private KeyValuePair<string, object?>[] _detectorBlockTags = [];
    private TraceRecorder.Attachment? _traceAttachment;

    // Utilization gauge: busy time and clock at its previous observation, per server (under _lock).
    private long[] _lastBusyNs = [];
    private long[] _lastSampleNs = [];

    /// <summary>Created before the servers start: they report to it from their first turn.</summary>
    public SchedulerTelemetry(UmcgScheduler scheduler)
    {
        Scheduler = scheduler;
        SchedulerTags = [new(UmcgMetrics.SchedulerTag, scheduler.Options.Name)];
    }

    public UmcgScheduler Scheduler { get; }

    /// <summary>
    /// The recorder while tracing, else null: what the scheduling path checks. Written under <see cref="_lock"/>
    /// and read without a fence: a probe racing a start or stop records or misses one event, and a recorder
    /// stays valid after it is detached.
    /// </summary>
    public TraceRecorder? Recorder { get; private set; }

    public KeyValuePair<string, object?>[] SchedulerTags { get; }

    /// <summary>Once every server runs: the meter reports on the scheduler, and tracing starts if the options ask for it.</summary>
    public void OnStarted()
    {
        var servers = Scheduler.Servers;
        _serverTags = [.. servers.Select(s => new KeyValuePair<string, object?>[] { new(UmcgMetrics.SchedulerTag, Scheduler.Options.Name), new(UmcgMetrics.ServerTag, s.Index) })];
        _explicitBlockTags = [new(UmcgMetrics.SchedulerTag, Scheduler.Options.Name), new(UmcgMetrics.DetectorTag, BlockDetector.Explicit)];
        _detectorBlockTags = [new(UmcgMetrics.SchedulerTag, Scheduler.Options.Name), new(UmcgMetrics.DetectorTag, BlockDetector.Detector)];
        long now = KernelClock.Now(ClockId.Monotonic);
        _lastBusyNs = new long[servers.Length];
        _lastSampleNs = [.. servers.Select(_ => now)];
        UmcgMetrics.EnsureCreated();
        SchedulerRegistry.Add(this);
        if (Scheduler.Options.Trace is { } recorder)
        {
            StartTrace(recorder);
        }
    }

    /// <summary>Once every thread of the scheduler has ended: the meter forgets it and tracing stops.</summary>
    public void OnShutDown()
    {
        SchedulerRegistry.Remove(this);
        StopTrace();
    }

    /// <summary>Starts recording into <paramref name="recorder"/>: this scheduler's workers' transitions and its servers' decisions.</summary>
    /// <exception cref="InvalidOperationException">The scheduler is already tracing.</exception>
    public void StartTrace(TraceRecorder recorder)
    {
        lock (_lock)
        {
            if (Recorder is not null)
            {
                throw new InvalidOperationException("The scheduler is already tracing; stop that trace first.");
            }

            var servers = Scheduler.Servers;
            foreach (var server in servers)
            {
                recorder.AddServer(new TraceServer(server.Tid, server.Index, server.Cpu, ServerName(server)));
            }

            _traceAttachment = recorder.Attach(Scheduler.Kernel, [.. servers.Select(s => s.Tid)]);
            Recorder = recorder;
        }
    }

    /// <summary>Stops tracing; returns the recorder it recorded into, or null if it was not tracing.</summary>
    public TraceRecorder? StopTrace()
    {
        lock (_lock)
        {
            var recorder = Recorder;
            Recorder = null;
            _traceAttachment?.Dispose();
            _traceAttachment = null;
            return recorder;
        }
    }

    /// <summary>The tags of server <paramref name="index"/> (the scheduler's alone until <see cref="OnStarted"/>).</summary>
    public KeyValuePair<string, object?>[] ServerTags(int index)
    {
        var tags = _serverTags;
        return (uint)index < (uint)tags.Length ? tags[index] : SchedulerTags;
    }

    public KeyValuePair<string, object?>[] BlockTags(bool detector) => detector ? _detectorBlockTags : _explicitBlockTags;

    /// <summary>Time a worker ran for <paramref name="server"/> up to <paramref name="now"/> (ns); never more than it was.</summary>
    public static long BusyNs(Server server, long now)
    {
        // BusyNs first, BusySinceNs second: the order ServerCounters.AccountBusy publishes them against.
        long busy = Volatile.Read(ref server.Counters.BusyNs);
        long since = Volatile.Read(ref server.Counters.BusySinceNs);
        return since != 0 && now > since ? busy + (now - since) : busy;
    }

    /// <summary>The fraction of time since the previous sample that a worker ran for <paramref name="server"/>.</summary>
    public double SampleUtilization(Server server, long now)
    {
        long busy = BusyNs(server, now);
        lock (_lock)
        {
            int i = server.Index;
            long wall = now - _lastSampleNs[i];
            long ran = busy - _lastBusyNs[i];
            _lastBusyNs[i] = busy;
            _lastSampleNs[i] = now;
            return wall <= 0 ? 0 : Math.Clamp(ran / (double)wall, 0, 1);
        }
    }

    private string ServerName(Server server) =>
        string.Create(CultureInfo.InvariantCulture, $"{Scheduler.Options.Name} server {server.Index} (tid {server.Tid}, cpu {server.Cpu})");
}
