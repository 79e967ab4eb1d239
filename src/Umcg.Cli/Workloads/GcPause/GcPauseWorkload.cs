using Umcg.Scheduling.Demotion;

namespace Umcg.Cli.Workloads.GcPause;

/// <summary>
/// What demoting a thread costs every stop-the-world GC. One busy thread per CPU at normal priority keeps every
/// CPU full and drives the GCs (an allocation every chunk of work); beside them one more thread loops over 20 µs of
/// arithmetic and one allocation, demoted according to the system: <c>normal</c> (not demoted), <c>sched-idle</c>
/// (SCHED_IDLE, weight 3 against 1024) or <c>nice19</c> (weight 15). A GC must stop every thread running managed
/// code, the demoted one included, and that thread gets the CPU only when nothing else of the process wants it.
/// The busy threads either run managed code too (the GC stops them first, which frees the CPU for the demoted
/// thread), or, with the <c>-native</c> systems, spend their time in the kernel (reading /dev/urandom, as native
/// code or a system call would), where the GC does not stop them and they keep the CPUs from the demoted thread.
/// Latency is each pause (suspension begin to restart end, from the runtime's GC events); the extras give the
/// suspension part, the longest pause, the GCs the demoted thread itself set off (their work then runs at its
/// priority) and the CPU share it got.
/// </summary>
internal sealed class GcPauseWorkload : IWorkload
{
    public const string Normal = "normal";
    public const string SchedIdle = "sched-idle";
    public const string Nice19 = "nice19";
    public const string NativeSuffix = "-native";

    private const double ChunkUs = 20;
    private const int AllocationBytes = 4096;
    private const int Survivors = 1024; // a ring of live objects per thread, so that some survive a gen0 GC
    private const int KernelChunkBytes = 8 * 1024; // tens of µs in the kernel's ChaCha20, about a chunk of arithmetic

    public string Name => "gcpause";

    public string Description => "GC pauses while one allocating thread is demoted (SCHED_IDLE or nice 19) beside a busy thread per CPU";

    public IReadOnlyList<string> Systems { get; } = [Normal, SchedIdle, Nice19, Normal + NativeSuffix, SchedIdle + NativeSuffix, Nice19 + NativeSuffix];

    public IReadOnlyList<string> ReportedExtras { get; } = ["pause_max_us", "suspend_p99_us", "suspend_max_us", "gcs", "gcs_by_demoted", "demoted_cpu_share"];

    public WorkloadResult Run(string system, WorkloadSettings settings, IProgressSink progress)
    {
        bool nativeBusy = system.EndsWith(NativeSuffix, StringComparison.Ordinal);
        var mechanism = (nativeBusy ? system[..^NativeSuffix.Length] : system) switch
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

        // One chunk of work and one allocation per turn, the work in managed code or in the kernel.
        void Loop(ref long done, bool inKernel)
        {
            var ring = new byte[Survivors][];
            using var urandom = inKernel ? File.OpenHandle("/dev/urandom") : null;
            var kernelBuffer = new byte[inKernel ? KernelChunkBytes : 0];
            for (long i = 0; !Volatile.Read(ref stop); i++)
            {
                if (urandom is null)
                {
                    Spin.Run(chunk);
                }
                else
                {
                    RandomAccess.Read(urandom, kernelBuffer, 0);
                }

                ring[i % Survivors] = new byte[AllocationBytes];
                Interlocked.Increment(ref done);
            }
        }

        using var demotedReady = new ManualResetEventSlim();
        var busy = Enumerable.Range(0, settings.Servers).Select(i => new Thread(() => Loop(ref busyChunks, nativeBusy)) { IsBackground = true, Name = $"gcpause busy {i}" }).ToList();
        DemotedThread demoted = default;
        var demotedThread = new Thread(() =>
        {
            Volatile.Write(ref demotedTid, LinuxSyscalls.Gettid());
            demoted = demotion?.Demote(demotedTid) ?? default;
            demotedReady.Set();
            long cpu0 = LinuxSyscalls.ThreadCpuNs();
            long ignored = 0;
            Loop(ref ignored, inKernel: false);
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
        demotedThread.Join(); // alone on the machine's CPUs now, demoted or not it runs and sees the flag

        // One more GC stamps an event after the window; once it has arrived, so has every event of the window.
        GC.Collect(0);
        var flush = Stopwatch.StartNew();
        while (!listener.HasSeenPast(to) && flush.Elapsed < TimeSpan.FromSeconds(10))
        {
            LinuxSyscalls.SleepNs(10_000_000);
        }

        var pauses = listener.Between(from, to);
        var recorder = new LatencyRecorder(Math.Max(1, pauses.Length));
        var suspensions = new LatencyRecorder(Math.Max(1, pauses.Length));
        foreach (var p in pauses)
        {
            recorder.Record(p.PauseNs);
            suspensions.Record(p.SuspendNs);
        }

        result.SetLatency(recorder, "GC pause: suspension begin to restart end");
        result.ThroughputPerSecond = busyChunks / result.WallSeconds;
        long[] suspended = suspensions.Sorted();
        result.Extra["pause_max_us"] = result.Latency?.MaxUs ?? 0;
        result.Extra["suspend_p99_us"] = (Percentiles.Of(suspended, 99) ?? 0) / 1000.0;
        result.Extra["suspend_max_us"] = (suspended.Length > 0 ? suspended[^1] : 0) / 1000.0;
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
