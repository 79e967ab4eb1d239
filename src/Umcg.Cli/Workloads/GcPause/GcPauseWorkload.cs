using Umcg.Scheduling.Demotion;

namespace Umcg.Cli.Workloads.GcPause;

/// <summary>
/// What demoting a thread costs every stop-the-world GC. Busy work keeps every CPU full, and a thread of this
/// process loops over 20 µs of arithmetic and one small allocation, demoted according to the system: <c>normal</c>
/// (not demoted), <c>sched-idle</c> (SCHED_IDLE, weight 3 against 1024) or <c>nice19</c> (weight 15). A GC must
/// stop every thread that runs managed code, the demoted one included, and that thread gets a CPU only when nothing
/// of its autogroup wants it. The busy work is either one managed thread per CPU running the same loop at normal
/// priority (the GC stops them first, which frees a CPU for the demoted thread), or, with the <c>-hogs</c> systems,
/// <see cref="HogProcesses"/> the GC does not stop, beside one managed allocating thread at normal priority.
/// Latency is each pause (suspension begin to restart end, from the runtime's GC events); the extras give the
/// suspension part, the longest pause, the GCs the demoted thread set off itself (their work then runs at its
/// priority) and the CPU share it got.
/// </summary>
internal sealed class GcPauseWorkload : IWorkload
{
    public const string Normal = "normal";
    public const string SchedIdle = "sched-idle";
    public const string Nice19 = "nice19";
    public const string HogsSuffix = "-hogs";

    private const double ChunkUs = 20;
    private const int AllocationBytes = 4096;
    private const int Survivors = 1024; // a ring of live objects per thread, so that some survive a gen0 GC

    public string Name => "gcpause";

    public string Description => "GC pauses beside a thread demoted to SCHED_IDLE or nice 19, the CPUs kept busy by threads the GC stops (or, -hogs, by processes it does not)";

    public IReadOnlyList<string> Systems { get; } = [Normal, SchedIdle, Nice19, Normal + HogsSuffix, SchedIdle + HogsSuffix, Nice19 + HogsSuffix];

    public IReadOnlyList<string> ReportedExtras { get; } = ["pause_max_us", "suspend_p99_us", "suspend_max_us", "gcs", "gcs_by_demoted", "demoted_cpu_share"];

    public WorkloadResult Run(string system, WorkloadSettings settings, IProgressSink progress)
    {
        bool hogs = system.EndsWith(HogsSuffix, StringComparison.Ordinal);
        var mechanism = (hogs ? system[..^HogsSuffix.Length] : system) switch
        {
            Normal => DemotionMechanism.None,
            SchedIdle => DemotionMechanism.SchedIdle,
            Nice19 => DemotionMechanism.Nice19,
            _ => throw new ArgumentException($"gcpause runs on {string.Join(", ", Systems)}, not {system}", nameof(system)),
        };
        var demotion = mechanism == DemotionMechanism.None ? null : new ThreadDemotion(mechanism);
        var result = new WorkloadResult { Workload = Name, System = system, ThroughputUnit = "chunks" };
        using var listener = new GcPauseListener();
        long chunk = Spin.IterationsFor(ChunkUs);
        long busyChunks = 0;
        long demotedCpuNs = 0;
        int demotedTid = 0;
        bool stop = false;

        // One chunk of work and one allocation per turn.
        void Loop(ref long done)
        {
            var ring = new byte[Survivors][];
            for (long i = 0; !Volatile.Read(ref stop); i++)
            {
                Spin.Run(chunk);
                ring[i % Survivors] = new byte[AllocationBytes];
                Interlocked.Increment(ref done);
            }
        }

        using var demotedReady = new ManualResetEventSlim();
        var busy = Enumerable.Range(0, hogs ? 1 : settings.Servers).Select(i => new Thread(() => Loop(ref busyChunks)) { IsBackground = true, Name = $"gcpause busy {i}" }).ToList();
        DemotedThread demoted = default;
        var demotedThread = new Thread(() =>
        {
            Volatile.Write(ref demotedTid, LinuxSyscalls.Gettid());
            demoted = demotion?.Demote(demotedTid) ?? default;
            demotedReady.Set();
            long cpu0 = LinuxSyscalls.ThreadCpuNs();
            long ignored = 0;
            Loop(ref ignored);
            Volatile.Write(ref demotedCpuNs, LinuxSyscalls.ThreadCpuNs() - cpu0);
        })
        { IsBackground = true, Name = "gcpause demoted" };

        demotedThread.Start();
        demotedReady.Wait();
        if (demotion is not null && !demoted.IsDemoted)
        {
            Volatile.Write(ref stop, true);
            demotedThread.Join();
            throw new InvalidOperationException($"gcpause on {system}: the thread was not demoted: {demoted} ({demotion.Reason})");
        }

        using var hogProcesses = hogs ? new HogProcesses(settings.Servers) : null;
        busy.ForEach(t => t.Start());
        int gcs0 = GC.CollectionCount(0);
        var pause0 = GC.GetTotalPauseDuration();
        DateTime from = DateTime.UtcNow;
        var scope = RunScope.Start();
        long endNs = scope.StartNs + (long)settings.Duration.TotalNanoseconds;
        while (LinuxSyscalls.MonotonicNs() < endNs)
        {
            LinuxSyscalls.SleepNs(Math.Min(100_000_000, Math.Max(0, endNs - LinuxSyscalls.MonotonicNs())));
            progress.Report(scope.ElapsedSeconds / settings.Duration.TotalSeconds, $"{GC.CollectionCount(0) - gcs0} GCs");
        }

        DateTime to = DateTime.UtcNow;
        int gcs = GC.CollectionCount(0) - gcs0;
        var totalPause = GC.GetTotalPauseDuration() - pause0;
        scope.Finish(result);
        Volatile.Write(ref stop, true);
        busy.ForEach(t => t.Join());
        hogProcesses?.Dispose();
        demotedThread.Join(); // nothing of this session left to outweigh it: demoted or not, it runs and sees the flag

        // One more GC stamps an event after the window; once it has arrived, so has every event of the window.
        GC.Collect(0);
        var flush = Stopwatch.StartNew();
        while (!listener.HasSeenPast(to) && flush.Elapsed < TimeSpan.FromSeconds(10))
        {
            LinuxSyscalls.SleepNs(10_000_000);
        }

        var pauses = listener.Between(from, to);
        var recorder = new LatencyHistogram();
        var suspensions = new LatencyHistogram();
        foreach (var p in pauses)
        {
            recorder.Record(p.PauseNs);
            suspensions.Record(p.SuspendNs);
        }

        result.SetLatency(recorder, "GC pause: suspension begin to restart end");
        result.ThroughputPerSecond = busyChunks / result.WallSeconds;
        result.Extra["pause_max_us"] = result.Latency?.MaxUs ?? 0;
        result.Extra["suspend_p99_us"] = suspensions.ValueAt(99) / 1000.0;
        result.Extra["suspend_max_us"] = suspensions.Max / 1000.0;
        result.Extra["gcs"] = gcs;
        result.Extra["pauses_seen"] = pauses.Length;
        result.Extra["gcs_by_demoted"] = pauses.Count(p => p.SuspendingThread == demotedTid);
        result.Extra["total_pause_ms"] = totalPause.TotalMilliseconds;
        result.Extra["demoted_cpu_share"] = demotedCpuNs / (result.WallSeconds * 1e9);
        if (pauses.Length < gcs)
        {
            result.Notes.Add($"{gcs} GCs counted but {pauses.Length} pauses seen in the runtime's events");
        }

        return result;
    }
}
