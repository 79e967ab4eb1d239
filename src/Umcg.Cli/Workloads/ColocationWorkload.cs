namespace Umcg.Cli.Workloads;

/// <summary>
/// Short requests arriving open-loop (Poisson, fixed seed) beside CPU-bound batch workers that never block.
/// A request's latency runs from its scheduled arrival to its completion, so a late dispatch counts against
/// the system too. On Umcg the policy is
/// <see cref="Umcg.Scheduling.Policies.PriorityPolicy"/> without round robin: requests at priority 20, batch at 0, batch loops call
/// <c>Worker.Safepoint()</c> every 50 µs.
/// </summary>
internal sealed class ColocationWorkload : IWorkload
{
    private const double RequestUs = 100;
    private const double BatchChunkUs = 50;
    private const double RequestsPerSecond = 2000;

    public string Name => "colocation";

    public string Description => "open-loop short requests beside CPU-bound batch workers (priority policy on Umcg)";

    public IReadOnlyList<string> Systems { get; } = [SystemNames.Umcg, SystemNames.ThreadPool, SystemNames.Threads];

    public IReadOnlyList<string> ReportedExtras { get; } = ["batch_cpu_per_s"];

    public WorkloadResult Run(string system, WorkloadSettings settings, IProgressSink progress)
    {
        int n = settings.Servers;
        _ = Spin.IterationsPerUs; // calibrated before the measured part
        int batchWorkers = settings.Workers ?? 2 * n;
        var result = new WorkloadResult { Workload = Name, System = system, ThroughputUnit = "requests" };
        var meter = new ComputeMeter(Environment.ProcessorCount);
        var latency = new LatencyRecorder();
        long requestWork = Spin.IterationsFor(RequestUs);
        long chunkWork = Spin.IterationsFor(BatchChunkUs);
        long requestsDone = 0;
        long requestsOffered = 0;
        long batchChunks = 0;
        bool stop = false;

        using (var sys = SystemNames.Create(system, new SystemSettings(n, Priorities: true, Trace: settings.Trace)))
        {
            var group = new TaskGroup(sys);
            meter.Servers = sys as IServerView;
            var scope = RunScope.Start();
            using var sampler = new UtilizationSampler(meter, TimeSpan.FromMilliseconds(20), elapsed =>
            {
                var lat = Volatile.Read(ref requestsDone);
                progress.Report(elapsed / settings.Duration.TotalSeconds, $"{lat} requests, batch {Volatile.Read(ref batchChunks) * BatchChunkUs / 1e6 / elapsed:0.00} CPU");
            });
            sampler.Start(scope.StartNs);
            for (int i = 0; i < batchWorkers; i++)
            {
                group.Start(TaskKind.Batch, Batch);
            }

            // The load generator: its own thread, outside every system under test.
            long endNs = scope.StartNs + (long)settings.Duration.TotalNanoseconds;
            var rng = new Random(42);
            long due = scope.StartNs;
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
                    latency.Record(LinuxSyscalls.MonotonicNs() - arrival);
                    Interlocked.Increment(ref requestsDone);
                });
            }

            Volatile.Write(ref stop, true);
            if (!group.Wait(settings.StallLimit))
            {
                throw new TimeoutException($"colocation on {system}: tasks did not finish within {settings.StallLimit.TotalSeconds:0} s");
            }

            scope.Finish(result);
            sampler.Dispose();
            result.UtilizationSeries = sampler.Samples;
            result.UtilizationOriginNs = sampler.OriginNs;
            UmcgFigures.AddTo(result, sys);
        }

        result.Utilization = meter.TotalNs() / (result.WallSeconds * 1e9 * n);
        result.ThroughputPerSecond = requestsDone / result.WallSeconds;
        result.MaxRunning = meter.MaxRunning;
        result.Extra["max_sections_open"] = meter.MaxOpen;
        result.SetLatency(latency, "request: scheduled arrival → completion");
        result.Extra["servers"] = n;
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
                Worker.Safepoint();
            }
            while (!Volatile.Read(ref stop));
        }
    }
}
