namespace Umcg.Cli.Workloads.PingPong;

/// <summary>
/// One way for two threads to hand the CPU back and forth. <see cref="Run"/> sets up its threads on one CPU,
/// warms up, times every round trip (ping → pong → ping) for the duration asked, tears down, and returns the
/// round trips timed.
/// </summary>
internal abstract class Handoff
{
    /// <summary>Round trips run before timing starts (JIT, first wakes, caches).</summary>
    public const int WarmUp = 2_000;

    /// <summary>How long setup or teardown may take before the run is reported as stalled.</summary>
    public static readonly TimeSpan StallLimit = TimeSpan.FromSeconds(30);

    public abstract string Name { get; }

    /// <summary>What one round trip is made of, for the report.</summary>
    public abstract string Describe { get; }

    /// <summary>Sets up on <paramref name="cpu"/>, warms up, times round trips for <paramref name="duration"/>, tears down.</summary>
    public abstract long Run(int cpu, int servers, TimeSpan duration, LatencyHistogram latency);

    /// <summary>Times round trips made by <paramref name="roundTrip"/> for <paramref name="duration"/>, after the warm-up.</summary>
    protected static long TimeRoundTrips(Action roundTrip, TimeSpan duration, LatencyHistogram latency)
    {
        for (int i = 0; i < WarmUp; i++)
        {
            roundTrip();
        }

        long count = 0;
        long now = LinuxSyscalls.MonotonicNs();
        long deadlineNs = now + (long)duration.TotalNanoseconds;
        while (now < deadlineNs)
        {
            for (int i = 0; i < 256; i++)
            {
                long t0 = now;
                roundTrip();
                now = LinuxSyscalls.MonotonicNs();
                latency.Record(now - t0);
            }

            count += 256;
        }

        return count;
    }
}
