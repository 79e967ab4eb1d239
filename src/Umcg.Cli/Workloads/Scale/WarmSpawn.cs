namespace Umcg.Cli.Workloads.Scale;

/// <summary>
/// Spawn rate on a warm pool: short bodies (record the spawn-to-start latency, end) started as fast as one thread
/// can start them for a while, with at most <see cref="InFlight"/> in flight (enough to keep every CPU busy,
/// few enough that the latency is a spawn's and not a queue's), far fewer than the <see cref="PoolThreads"/>
/// a pool has ready. The rate counts from the first spawn until the last body has ended; the threads
/// the system created meanwhile are counted beside it (0 for a warm pool, one per body for thread-per-task).
/// </summary>
internal static class WarmSpawn
{
    /// <summary>Threads started before the measure.</summary>
    public const int PoolThreads = 1024;

    /// <summary>The most bodies spawned and not yet ended at once.</summary>
    public const int InFlight = 64;

    /// <summary>Spawns between two reads of the clock.</summary>
    private const int Batch = 64;

    /// <summary>Measures <paramref name="pool"/> for <paramref name="duration"/>.</summary>
    public static WarmSpawnResult Measure(IWarmPool pool, TimeSpan duration, TimeSpan stallLimit, LatencyHistogram latency, IProgressSink progress)
    {
        using var inFlight = new SemaphoreSlim(InFlight, InFlight);
        using var pending = new CountdownEvent(1);
        long spawns = 0;
        long start = LinuxSyscalls.MonotonicNs();
        long stop = start + (long)duration.TotalNanoseconds;
        for (long now = start; now < stop; now = LinuxSyscalls.MonotonicNs())
        {
            for (int i = 0; i < Batch; i++)
            {
                if (!inFlight.Wait(stallLimit))
                {
                    throw new TimeoutException($"warm spawns: {InFlight} bodies did not end within {stallLimit.TotalSeconds:0} s");
                }

                pending.AddCount();
                long spawnedAt = LinuxSyscalls.MonotonicNs();
                pool.Start(() =>
                {
                    latency.Record(LinuxSyscalls.MonotonicNs() - spawnedAt);
                    inFlight.Release();
                    pending.Signal();
                });
            }

            spawns += Batch;
            if (spawns % (Batch * 64) == 0)
            {
                progress.Report(Math.Min(1, (double)(now - start) / (stop - start)), $"{spawns} warm spawns");
            }
        }

        pending.Signal();
        if (!pending.Wait(stallLimit))
        {
            throw new TimeoutException($"warm spawns: {pending.CurrentCount} bodies had not ended within {stallLimit.TotalSeconds:0} s");
        }

        double seconds = (LinuxSyscalls.MonotonicNs() - start) / 1e9;
        return new WarmSpawnResult(spawns, seconds, pool.ThreadsCreated);
    }
}

/// <summary>What <see cref="WarmSpawn.Measure"/> found.</summary>
/// <param name="Spawns">Bodies started (and ended).</param>
/// <param name="Seconds">From the first spawn until the last body ended.</param>
/// <param name="ThreadsCreated">OS threads the system created meanwhile.</param>
internal sealed record WarmSpawnResult(long Spawns, double Seconds, long ThreadsCreated)
{
    public double PerSecond => Spawns / Seconds;
}
