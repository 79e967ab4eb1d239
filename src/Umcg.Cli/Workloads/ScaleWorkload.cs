namespace Umcg.Cli.Workloads;

/// <summary>
/// Many workers at once (10,000 by default) on N servers: each starts, checks in, and blocks on a gate. Spawn
/// rate is workers per second until all have checked in; memory per worker is the growth of RSS (and of the
/// managed heap) while all are alive, divided by their count; teardown rate is workers per second from opening
/// the gate until every body has finished and the system has released every thread. Latency is spawn to
/// first instruction of the body. Baseline: one OS thread per task (the thread pool and a fixed pool cannot
/// hold 10,000 blocked tasks).
/// </summary>
internal sealed class ScaleWorkload : IWorkload
{
    public string Name => "scale";

    public string Description => "10,000 workers on N servers: memory per worker, spawn and teardown rate";

    public IReadOnlyList<string> Systems { get; } = [SystemNames.Umcg, SystemNames.Threads];

    public IReadOnlyList<string> ReportedExtras { get; } = ["rss_per_worker_bytes", "managed_per_worker_bytes", "spawn_per_s", "teardown_per_s"];

    public WorkloadSettings WarmUp(WorkloadSettings settings, TimeSpan duration) => settings with { Workers = Math.Min(settings.Workers ?? 10_000, 500) };

    public WorkloadResult Run(string system, WorkloadSettings settings, IProgressSink progress)
    {
        int n = settings.Servers;
        int workers = settings.Workers ?? 10_000;
        var result = new WorkloadResult { Workload = Name, System = system, ThroughputUnit = "spawns" };
        var latency = new LatencyRecorder(workers);
        using var started = new CountdownEvent(workers);
        using var gate = new ManualResetEventSlim(false);

        long rss0 = ProcessMemory.RssBytes();
        long managed0 = ProcessMemory.ManagedBytes();
        var scope = RunScope.Start();
        var sys = SystemNames.Create(system, new SystemSettings(n, Trace: settings.Trace));
        double spawnSeconds, teardownSeconds;
        long rss1, managed1;
        int threads;
        try
        {
            var group = new TaskGroup(sys);
            for (int i = 0; i < workers; i++)
            {
                long spawnedAt = LinuxSyscalls.MonotonicNs();
                group.Start(TaskKind.Normal, () =>
                {
                    latency.Record(LinuxSyscalls.MonotonicNs() - spawnedAt);
                    started.Signal();
                    using (Worker.Blocking())
                    {
                        gate.Wait();
                    }
                });
                if ((i & 1023) == 0)
                {
                    progress.Report(0.5 * i / workers, $"{i} spawned");
                }
            }

            if (!started.Wait(settings.StallLimit))
            {
                throw new TimeoutException($"scale on {system}: {started.CurrentCount} of {workers} workers had not started within {settings.StallLimit.TotalSeconds:0} s");
            }

            spawnSeconds = scope.ElapsedSeconds;
            threads = ProcessMemory.Threads();
            rss1 = ProcessMemory.RssBytes();
            managed1 = ProcessMemory.ManagedBytes();
            progress.Report(0.5, $"{workers} alive, {threads} threads");

            long t2 = LinuxSyscalls.MonotonicNs();
            gate.Set();
            if (!group.Wait(settings.StallLimit))
            {
                throw new TimeoutException($"scale on {system}: bodies did not finish within {settings.StallLimit.TotalSeconds:0} s");
            }

            UmcgFigures.AddTo(result, sys);
            sys.Dispose();
            teardownSeconds = (LinuxSyscalls.MonotonicNs() - t2) / 1e9;
        }
        catch
        {
            gate.Set();
            sys.Dispose();
            throw;
        }

        scope.Finish(result);
        progress.Report(1, "torn down");
        result.ThroughputPerSecond = workers / spawnSeconds;
        result.SetLatency(latency, "spawn → body starts");
        result.Extra["servers"] = n;
        result.Extra["workers"] = workers;
        result.Extra["spawn_per_s"] = workers / spawnSeconds;
        result.Extra["teardown_per_s"] = workers / teardownSeconds;
        result.Extra["spawn_s"] = spawnSeconds;
        result.Extra["teardown_s"] = teardownSeconds;
        result.Extra["rss_per_worker_bytes"] = (double)(rss1 - rss0) / workers;
        result.Extra["managed_per_worker_bytes"] = (double)(managed1 - managed0) / workers;
        result.Extra["threads_at_peak"] = threads;
        return result;
    }
}
