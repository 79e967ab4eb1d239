namespace Umcg.Cli.Workloads;

/// <summary>
/// Short requests arriving open-loop (Poisson, fixed seed) beside CPU-bound batch workers that never block.
/// A request's latency runs from its scheduled arrival to its completion, so a late dispatch counts against
/// the system too. On Umcg the policy is
/// <see cref="Umcg.Scheduling.Policies.PriorityPolicy"/> without round robin: requests at priority 20, batch at 0, batch loops call
/// <c>Worker.Safepoint()</c> every 50 µs — or, in the <c>colocation-nosafepoints</c> variant, never: legacy code the
/// server can take its CPU back from only by demotion (compared with Umcg with demotion turned off in the same run).
/// </summary>
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

    public IReadOnlyList<string> ReportedExtras { get; } = ["batch_cpu_per_s"];

    public WorkloadResult Run(string system, WorkloadSettings settings, IProgressSink progress)
    {
        int n = settings.Servers;
        int batchWorkers = settings.Workers ?? 2 * n;
        var run = new MeteredRun(Name, system, settings, throughputUnit: "requests");
        var meter = run.Meter;
        long requestWork = Spin.IterationsFor(RequestUs);
        long chunkWork = Spin.IterationsFor(BatchChunkUs);
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
        result.Extra["batch_cpu_per_s"] = batchChunks * BatchChunkUs / 1e6 / result.WallSeconds;
        return result;

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
