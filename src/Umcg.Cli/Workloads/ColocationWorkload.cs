namespace Umcg.Cli.Workloads;

/// <summary>
/// Short requests arriving open-loop (Poisson, fixed seed) beside CPU-bound batch workers that never block.
/// A request's latency runs from its scheduled arrival to its completion, so a late dispatch counts against
/// the system too. On Umcg the policy is
/// <see cref="Umcg.Scheduling.Policies.PriorityPolicy"/> without round robin: requests at priority 20, batch at 0, batch loops call
/// <c>Worker.Safepoint()</c> every 50 µs — or, in the <c>colocation-nosafepoints</c> variant, never: legacy code the
/// server can take its CPU back from only by demotion (compared with Umcg with demotion turned off in the same run).
/// </summary>
/// <remarks>
/// The batch's CPU is counted in its own unit (chunks of the calibrated spin), which the calibration measures on one
/// thread alone; what the whole machine does in that unit is measured, not assumed to be one per CPU (1.93–1.98 for
/// two CPUs on a KVM guest): before each run the batch's loop runs alone on plain threads for
/// <see cref="CapacityProbe"/>, and what is left of that after the requests' own work is the batch's fair share
/// (<c>batch_share_of_left</c>).
/// </remarks>
/// <param name="safepoints">Whether the batch loops call <c>Worker.Safepoint()</c>.</param>
internal sealed class ColocationWorkload(bool safepoints = true) : IWorkload
{
    private const double RequestUs = 100;
    private const double BatchChunkUs = 50;
    private const double RequestsPerSecond = 2000;

    public string Name => safepoints ? "colocation" : "colocation-nosafepoints";

    public string Description => safepoints
        ? "open-loop short requests beside CPU-bound batch workers (priority policy on Umcg)"
        : "colocation with batch loops that have no safepoints: preemption by demotion against none";

    public IReadOnlyList<string> Systems { get; } = safepoints
        ? [SystemNames.Umcg, SystemNames.ThreadPool, SystemNames.Threads]
        : [SystemNames.Umcg, SystemNames.UmcgNice19, SystemNames.UmcgNoDemotion, SystemNames.ThreadPool, SystemNames.Threads];

    public IReadOnlyList<string> ReportedExtras { get; } = ["batch_cpu_per_s", "batch_share_of_left"];

    /// <summary>How long the batch's loop runs alone before each run, to measure the machine in the batch's unit.</summary>
    private static readonly TimeSpan CapacityProbe = TimeSpan.FromMilliseconds(500);

    public WorkloadResult Run(string system, WorkloadSettings settings, IProgressSink progress)
    {
        int n = settings.Servers;
        int batchWorkers = settings.Workers ?? 2 * n;
        var run = new MeteredRun(Name, system, settings, throughputUnit: "requests");
        var meter = run.Meter;
        long requestWork = Spin.IterationsFor(RequestUs);
        long chunkWork = Spin.IterationsFor(BatchChunkUs);
        double capacity = BatchCapacity(batchWorkers, chunkWork);
        long requestsDone = 0;
        long requestsOffered = 0;
        long batchChunks = 0;
        bool stop = false;

        run.Measure(
            new SystemSettings(n, Priorities: true, Trace: settings.Trace),
            elapsed => progress.Report(elapsed / settings.Duration.TotalSeconds, $"{Volatile.Read(ref requestsDone)} requests, batch {Volatile.Read(ref batchChunks) * BatchChunkUs / 1e6 / elapsed:0.00} CPU"),
            (group, startNs) =>
            {
                for (int i = 0; i < batchWorkers; i++)
                {
                    group.Start(TaskKind.Batch, Batch);
                }

                // The load generator: its own thread, outside every system under test.
                long endNs = startNs + (long)settings.Duration.TotalNanoseconds;
                var rng = new Random(42);
                long due = startNs;
                while (true)
                {
                    due += (long)(-Math.Log(1 - rng.NextDouble()) / RequestsPerSecond * 1e9);
                    if (due >= endNs)
                    {
                        break;
                    }

                    if (due > LinuxSyscalls.MonotonicNs())
                    {
                        LinuxSyscalls.SleepUntilNs(due);
                    }

                    long arrival = due;
                    requestsOffered++;
                    group.Start(TaskKind.Request, () =>
                    {
                        var section = meter.Enter();
                        Spin.Run(requestWork);
                        meter.Exit(section);
                        run.Latency.Record(LinuxSyscalls.MonotonicNs() - arrival);
                        Interlocked.Increment(ref requestsDone);
                    });
                }

                Volatile.Write(ref stop, true);
            });

        var result = run.Finish(requestsDone, "request: scheduled arrival → completion");
        result.Extra["max_sections_open"] = meter.MaxOpen;
        result.Extra["batch_workers"] = batchWorkers;
        result.Extra["requests_offered"] = requestsOffered;
        result.Extra["requests_done"] = requestsDone;
        result.Extra["offered_rate_per_s"] = RequestsPerSecond;
        result.Extra["request_compute_us"] = RequestUs;
        double batchCpu = batchChunks * BatchChunkUs / 1e6 / result.WallSeconds;
        double left = capacity - (requestsDone * RequestUs / 1e6 / result.WallSeconds);
        result.Extra["batch_cpu_per_s"] = batchCpu;
        result.Extra["batch_capacity_per_s"] = capacity;
        result.Extra["batch_share_of_left"] = left > 0 ? Math.Round(batchCpu / left, 3) : 0;
        return result;

        // The machine in the batch's unit: its loop alone on as many plain threads as there are batch workers, chunks per
        // second times the chunk's calibrated length. Nothing else of the run exists yet.
        static double BatchCapacity(int threads, long chunkWork)
        {
            long chunks = 0;
            bool done = false;
            var spinners = Enumerable.Range(0, threads).Select(_ => new Thread(() =>
            {
                while (!Volatile.Read(ref done))
                {
                    Spin.Run(chunkWork);
                    Interlocked.Increment(ref chunks);
                }
            }) { IsBackground = true, Name = "umcg-cli capacity" }).ToArray();
            foreach (var t in spinners)
            {
                t.UnsafeStart();
            }

            // Counted once every thread had time to start, for the probe's length.
            LinuxSyscalls.SleepNs((long)CapacityProbe.TotalNanoseconds / 5);
            long before = Interlocked.Read(ref chunks);
            long start = LinuxSyscalls.MonotonicNs();
            LinuxSyscalls.SleepNs((long)CapacityProbe.TotalNanoseconds);
            long counted = Interlocked.Read(ref chunks) - before;
            long elapsed = LinuxSyscalls.MonotonicNs() - start;
            Volatile.Write(ref done, true);
            foreach (var t in spinners)
            {
                t.Join();
            }

            return counted * BatchChunkUs * 1e3 / elapsed; // µs of work per ns elapsed, ×1e3: CPUs
        }

        // At least one chunk per batch worker, however late it starts.
        void Batch()
        {
            do
            {
                var section = meter.Enter();
                Spin.Run(chunkWork);
                meter.Exit(section);
                Interlocked.Increment(ref batchChunks);
                if (safepoints)
                {
                    Worker.Safepoint();
                }
            }
            while (!Volatile.Read(ref stop));
        }
    }
}
