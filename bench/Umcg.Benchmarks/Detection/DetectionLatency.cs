namespace Umcg.Benchmarks.Detection;

/// <summary>
/// Detection latency: one server, a worker about to sleep without saying so (a plain Thread.Sleep) and a
/// second worker queued behind it. Latency is the time from the start of the sleep to the moment the second
/// worker runs, i.e. block → server running another worker. Without a detector it is the whole sleep.
/// The sleeper works 0–2 ms first, so that sleeps start at random points of the detector's poll cycle.
/// </summary>
internal static class DetectionLatency
{
    private static readonly TimeSpan s_stall = TimeSpan.FromSeconds(30);

    public static (List<double> LatenciesUs, long Marks, long Rejected, double MarkDelayUs) Measure(DetectionConfig config, int samples, int sleepMs, int seed)
    {
        using var scheduler = config.CreateScheduler(servers: 1);
        var latencies = new List<double>(samples);
        var rng = new Random(seed);
        for (int i = 0; i < samples + 10; i++)
        {
            double workUs = rng.NextDouble() * 2000;
            long blockedAt = 0;
            long ranAt = 0;
            int started = 0;
            var sleeper = scheduler.Spawn(() =>
            {
                Volatile.Write(ref started, 1);

                // Sleep only once the second worker waits in this server's run queue, and after a random
                // while, so that the sleep starts at a random point of the detector's poll cycle. Yielding the
                // OS thread meanwhile lets the server (pinned to this CPU) take the second worker in without
                // waiting for the detector's next wake-up to get the CPU.
                var work = Stopwatch.StartNew();
                while (scheduler.QueuedForTests(0) == 0 || work.Elapsed.TotalMicroseconds < workUs)
                {
                    Thread.Yield();
                }

                Volatile.Write(ref blockedAt, KernelClock.Now(Abi.ClockId.Monotonic));
                Thread.Sleep(sleepMs);
            });
            SpinUntil(() => Volatile.Read(ref started) == 1, scheduler);
            var other = scheduler.Spawn(() => Volatile.Write(ref ranAt, KernelClock.Now(Abi.ClockId.Monotonic)));
            Wait(scheduler, sleeper, other);
            if (i >= 10)
            {
                latencies.Add((Volatile.Read(ref ranAt) - Volatile.Read(ref blockedAt)) / 1000.0);
            }
        }

        var stats = scheduler.Detector?.Stats;
        return (latencies, stats?.Marked ?? 0, stats?.Rejected ?? 0, stats?.MarkDelay.TotalMicroseconds ?? 0);
    }

    internal static void SpinUntil(Func<bool> condition, UmcgScheduler scheduler)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.Elapsed > s_stall)
            {
                throw new TimeoutException($"benchmark stalled{Environment.NewLine}{scheduler.Kernel.Dump()}");
            }

            Thread.Yield();
        }
    }

    internal static void Wait(UmcgScheduler scheduler, params WorkerHandle[] handles)
    {
        if (!Task.WhenAll(handles.Select(h => h.Completion)).Wait(s_stall))
        {
            throw new TimeoutException($"benchmark stalled{Environment.NewLine}{scheduler.Kernel.Dump()}");
        }
    }
}
