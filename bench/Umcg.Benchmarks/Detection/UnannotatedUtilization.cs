namespace Umcg.Benchmarks.Detection;

/// <summary>
/// Utilization reached on <see cref="BlockingWorkload"/>: useful compute time / (wall × CPUs), with the
/// scheduler under a detector configuration, or with one plain OS thread per worker as the reference.
/// </summary>
internal static class UnannotatedUtilization
{
    public const int Workers = 16;

    public static (double Utilization, long Marks, double UnmanagedMs, double DetectorCpu) Measure(DetectionConfig? config, BlockingKind kind, ComputeChunk chunk, TimeSpan duration)
    {
        int cpus = Math.Max(1, Environment.ProcessorCount);
        using var workload = new BlockingWorkload(kind, chunk, Workers);
        UmcgScheduler? scheduler = config?.CreateScheduler(servers: cpus);
        try
        {
            var sw = Stopwatch.StartNew();
            WorkerHandle[] handles = [];
            Thread[] threads = [];
            if (scheduler is not null)
            {
                handles = [.. Enumerable.Range(0, Workers).Select(i => scheduler.Spawn(() => workload.Body(i)))];
            }
            else
            {
                threads = [.. Enumerable.Range(0, Workers).Select(i => new Thread(() => workload.Body(i)) { IsBackground = true })];
                foreach (var t in threads)
                {
                    t.Start();
                }
            }

            // The measurement window, on the harness thread (not a worker).
            Thread.Sleep(duration);
            workload.Stop();
            double wallNs = sw.Elapsed.TotalNanoseconds;
            if (scheduler is not null)
            {
                DetectionLatency.Wait(scheduler, handles);
            }

            foreach (var t in threads)
            {
                t.Join();
            }

            var stats = scheduler?.Detector?.Stats;
            double detectorCpu = (stats?.DetectorCpu.TotalNanoseconds ?? 0) / wallNs;
            return (workload.UsefulNanoseconds / (wallNs * cpus), stats?.Marked ?? 0, stats?.UnmanagedCpu.TotalMilliseconds ?? 0, detectorCpu);
        }
        finally
        {
            scheduler?.Dispose();
        }
    }
}
