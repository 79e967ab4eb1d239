using Umcg.Cli.Workloads.Scale;

namespace Umcg.Cli.Workloads;

/// <summary>
/// Scale, in two parts on each system. Alive: many workers at once (25,000 by default, <c>--workers</c>) on N
/// servers, each blocked on a gate (see <see cref="AliveRun"/>): memory per worker, spawn and teardown rates; the
/// count is planned against the machine's limits first (see <see cref="ScalePlan"/>), with
/// <c>vm.max_map_count</c> raised for the run where the process may and restored afterwards. Warm spawns: short
/// bodies started on threads that already exist, for <c>--seconds</c> (see <see cref="WarmSpawn"/>): the
/// headline rate, with the threads created meanwhile. Baselines: one OS thread per task (both parts) and the .NET
/// thread pool (warm spawns only: it cannot hold the workers, see <see cref="ThreadPoolCannotHold"/>).
/// </summary>
internal sealed class ScaleWorkload : IWorkload
{
    /// <summary>Workers alive at once when <c>--workers</c> is not given.</summary>
    public const int DefaultWorkers = 25_000;

    /// <summary>Why the thread pool runs the warm spawns only.</summary>
    public const string ThreadPoolCannotHold =
        "threadpool runs the warm spawns only: it cannot hold thousands of blocked tasks at once, because it adds threads by its own " +
        "rules (beyond its minimum, a few a second while queued work waits), so 25,000 blocked tasks would take hours to start";

    public string Name => "scale";

    public string Description => "25,000 workers alive on N servers (memory per worker, spawn and teardown rate), then warm-pool spawns/s";

    public IReadOnlyList<string> Systems { get; } = [SystemNames.Umcg, SystemNames.Threads, SystemNames.ThreadPool];

    public IReadOnlyList<string> ReportedExtras { get; } =
        ["workers", "rss_per_worker_bytes", "managed_per_worker_bytes", "spawn_per_s", "teardown_per_s", "warm_threads_created"];

    // Never traced: a recorder's 8 MB buffer, even one made and never written, is touched between the alive part's two
    // memory reads (most likely by the compacting collections before each) and counted as the workers' memory: 2.3–2.7 KB
    // per worker at 4,000 workers.
    public bool Traced => false;

    // The warm-up warms this process's code: its alive part runs here even when the measured one runs in a child.
    public WorkloadSettings WarmUp(WorkloadSettings settings, TimeSpan duration) =>
        settings with { Duration = duration, Workers = Math.Min(settings.Workers ?? DefaultWorkers, 500), FreshProcesses = false };

    public WorkloadResult Run(string system, WorkloadSettings settings, IProgressSink progress)
    {
        var result = new WorkloadResult { Workload = Name, System = system, ThroughputUnit = "warm spawns" };
        var scope = RunScope.Start();
        if (system == SystemNames.ThreadPool)
        {
            result.Notes.Add(ThreadPoolCannotHold);
        }
        else
        {
            RunAlive(system, settings, result, progress);
        }

        var latency = new LatencyHistogram();
        WarmSpawnResult warm;
        using (var pool = WarmPools.Create(system, settings.Servers, WarmSpawn.PoolThreads, settings.StallLimit, settings.OsTimeSlice, settings.OsTimeSliceMode))
        {
            warm = WarmSpawn.Measure(pool, settings.Duration, settings.StallLimit, latency, new HalfProgress(progress));
        }

        scope.Finish(result);
        progress.Report(1, $"{warm.PerSecond:0} warm spawns/s");
        result.ThroughputPerSecond = warm.PerSecond;
        result.SetLatency(latency, "spawn → body starts, warm pool");
        result.Extra["warm_spawns"] = warm.Spawns;
        result.Extra["warm_spawn_per_s"] = warm.PerSecond;
        result.Extra["warm_threads_created"] = warm.ThreadsCreated;
        result.Extra["warm_pool_threads"] = WarmSpawn.PoolThreads;
        return result;
    }

    /// <summary>Plans the count against the machine's limits, raises vm.max_map_count if needed and allowed, and runs the alive part.</summary>
    private static void RunAlive(string system, WorkloadSettings settings, WorkloadResult result, IProgressSink progress)
    {
        if (settings.FreshProcesses)
        {
            progress.Report(0, "alive part in a fresh process");
            if (FreshProcess.TryMeasure(system, settings, result, ChildLimit))
            {
                return;
            }

            result.Notes.Add("alive part measured in this process: it could not start itself again");
        }

        var limits = HostLimits.Read();
        var plan = ScalePlan.For(limits, settings.Workers ?? DefaultWorkers);
        result.Notes.Add($"limits: {limits.Describe()}");
        result.Extra["workers_requested"] = plan.Requested;
        result.Extra["threads_on_machine_before"] = limits.TasksOnMachine ?? double.NaN;
        result.Extra["mappings_before"] = limits.ProcessMappings;
        using var raised = plan.RaiseMapCountTo is long to ? RaiseMapCount(to, ref plan, limits) : null;
        result.Notes.AddRange(plan.Notes);
        if (raised is not null)
        {
            result.Extra["max_map_count_raised_to"] = raised.RaisedTo;
        }

        if (plan.Workers == 0)
        {
            result.Extra["workers"] = 0;
            return;
        }

        AliveRun.Measure(system, settings, plan.Workers, result, progress);
    }

    /// <summary>How long the child measuring an alive part may take: 25,000 Umcg workers spawn at ≈ 300/s on 2 CPUs.</summary>
    private static readonly TimeSpan ChildLimit = TimeSpan.FromMinutes(15);

    /// <summary>Raises vm.max_map_count; when the write is refused after all, plans again as if unprivileged (a smaller count).</summary>
    private static RaisedSysctl? RaiseMapCount(long to, ref ScalePlan plan, HostLimits limits)
    {
        var raised = RaisedSysctl.TryRaise(Path.Combine("/proc", HostLimits.MaxMapCountFile), to, out string? refusal);
        if (refusal is not null)
        {
            var notes = new List<string> { refusal };
            var fallback = ScalePlan.For(limits with { Privileged = false }, plan.Requested);
            notes.AddRange(fallback.Notes);
            plan = fallback with { Notes = notes };
        }

        return raised;
    }

    /// <summary>Maps the warm part's progress onto the second half of the run.</summary>
    private sealed class HalfProgress(IProgressSink inner) : IProgressSink
    {
        public void Report(double fraction, string status) => inner.Report(0.5 + (0.5 * fraction), status);
    }
}
