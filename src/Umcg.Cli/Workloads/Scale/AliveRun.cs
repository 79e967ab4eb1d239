namespace Umcg.Cli.Workloads.Scale;

/// <summary>
/// The "alive" half of the scale workload: many workers at once, each starts, checks in and blocks on a gate (a
/// futex word, <see cref="KernelGate"/>).
/// Spawn rate is workers per second until all have checked in (every one on a new thread). Memory per worker is
/// the growth of RSS while all are alive, divided by their count, and of three parts of it: the managed heap (live
/// objects), the memory the GC has committed for it, and the C allocator's heap (the runtime's own per-thread
/// data); the rest is mostly the stack pages the threads touched. Each is read after a full collection. Teardown
/// rate is workers per second from opening the gate until every body has finished and the system has released
/// every thread.
/// </summary>
internal static class AliveRun
{
    /// <summary>Runs <paramref name="workers"/> at once on <paramref name="system"/> and adds its figures to <paramref name="result"/>.</summary>
    public static void Measure(string system, WorkloadSettings settings, int workers, WorkloadResult result, IProgressSink progress)
    {
        var latency = new LatencyHistogram();
        using var started = new CountdownEvent(workers);
        var gate = new KernelGate();

        // Garbage of earlier runs is collected first, and again at the peak, so that the growth is what the
        // workers hold, not what a collection had not yet reclaimed. And the memory earlier runs freed goes back to
        // the OS first (the GC's and the C heap's): the runtime's data of 25,000 exited threads stays resident in
        // the C heap, and a run after another would fill it again without growing RSS — the figure would then depend
        // on which system ran first (8 KB per worker for whichever came second, 16–23 KB for the first).
        ProcessMemory.DecommitManaged();
        bool trimmed = NativeHeap.ReleaseFree();
        long managed0 = ProcessMemory.ManagedBytes();
        long committed0 = GC.GetGCMemoryInfo().TotalCommittedBytes;
        long? native0 = NativeHeap.InUseBytes();
        long rss0 = ProcessMemory.RssBytes();
        long start = LinuxSyscalls.MonotonicNs();
        var sys = SystemNames.Create(system, new SystemSettings(settings.Servers, Trace: settings.Trace) { OsTimeSlice = settings.OsTimeSlice, OsTimeSliceMode = settings.OsTimeSliceMode });
        double spawnSeconds, teardownSeconds;
        long rss1, managed1, committed1;
        long? native1;
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
                    progress.Report(0.4 * i / workers, $"{i} spawned");
                }
            }

            if (!started.Wait(settings.StallLimit))
            {
                throw new TimeoutException($"scale on {system}: {started.CurrentCount} of {workers} workers had not started within {settings.StallLimit.TotalSeconds:0} s");
            }

            spawnSeconds = (LinuxSyscalls.MonotonicNs() - start) / 1e9;
            threads = ProcessMemory.Threads();
            ProcessMemory.DecommitManaged(); // the allocation contexts the new threads took, not only what they hold
            managed1 = ProcessMemory.ManagedBytes();
            committed1 = GC.GetGCMemoryInfo().TotalCommittedBytes;
            native1 = NativeHeap.InUseBytes();
            rss1 = ProcessMemory.RssBytes();
            progress.Report(0.4, $"{workers} alive, {threads} threads");

            long t2 = LinuxSyscalls.MonotonicNs();
            gate.Open();
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
            gate.Open();
            sys.Dispose();
            throw;
        }

        progress.Report(0.5, "torn down");
        var cold = LatencySummary.Of(latency);
        result.Extra["workers"] = workers;
        result.Extra["spawn_per_s"] = workers / spawnSeconds;
        result.Extra["teardown_per_s"] = workers / teardownSeconds;
        result.Extra["spawn_s"] = spawnSeconds;
        result.Extra["teardown_s"] = teardownSeconds;
        result.Extra["cold_spawn_p50_us"] = cold?.P50Us ?? double.NaN;
        result.Extra["cold_spawn_p99_us"] = cold?.P99Us ?? double.NaN;
        result.Extra["rss_per_worker_bytes"] = (double)(rss1 - rss0) / workers;
        result.Extra["managed_per_worker_bytes"] = (double)(managed1 - managed0) / workers;
        result.Extra["gc_committed_per_worker_bytes"] = (double)(committed1 - committed0) / workers;
        result.Extra["native_heap_per_worker_bytes"] = (double?)(native1 - native0) / workers ?? double.NaN;
        result.Extra["threads_at_peak"] = threads;
        result.Extra["c_heap_trimmed_first"] = trimmed ? 1 : 0;
    }
}
