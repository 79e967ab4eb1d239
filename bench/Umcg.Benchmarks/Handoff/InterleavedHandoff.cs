using Umcg.Cli.Workloads.PingPong.Pairs;

namespace Umcg.Benchmarks.Handoff;

/// <summary>
/// The handoff cases in one process, one batch of each in turn, round after round: a cross-check of the
/// BenchmarkDotNet ratios on a noisy machine.
/// </summary>
/// <remarks>
/// BenchmarkDotNet measures one case after another, each in its own process, over a few minutes; on a shared
/// machine the load drifts in that time and moves the cases against each other. Here neighbouring batches
/// are milliseconds apart and see the same load, so the ratio of each batch to the raw futex batch of the
/// same round is a steadier estimate than a ratio of means taken minutes apart.
/// </remarks>
public static class InterleavedHandoff
{
    private static readonly TimeSpan s_warmUp = TimeSpan.FromSeconds(2);

    private static readonly (string Name, Func<int?, PingPongPair> Create)[] s_cases =
    [
        (nameof(HandoffBenchmarks.RawFutex), cpu => new FutexPingPong(cpu)),
        (nameof(HandoffBenchmarks.UmcgServerWorker), cpu => new UmcgRoundTrip(cpu)),
        (nameof(HandoffBenchmarks.UmcgWorkerWorker), cpu => new UmcgWorkerSwitch(cpu)),
        (nameof(HandoffBenchmarks.SemaphoreSlim), cpu => new SemaphoreSlimPingPong(cpu)),
        (nameof(HandoffBenchmarks.MonitorWaitPulse), cpu => new MonitorPingPong(cpu)),
        (nameof(HandoffBenchmarks.AutoResetEvent), cpu => new AutoResetEventPingPong(cpu)),
    ];

    /// <summary>The names of the cases, as <see cref="Run"/> accepts them.</summary>
    public static IEnumerable<string> CaseNames => s_cases.Select(c => c.Name);

    /// <summary>
    /// Runs <paramref name="rounds"/> rounds (after two seconds of unmeasured ones) of <paramref name="names"/>
    /// (all cases if empty) and prints a Markdown table: per round trip, with ratios to the first case's batch of
    /// the same round. One case alone is what a profiler wants: its round trips and nothing else.
    /// </summary>
    public static void Run(Placement placement, int rounds, IReadOnlyCollection<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        int? cpu = HandoffBenchmarks.CpuFor(placement);
        var cases = s_cases.Where(c => names.Count == 0 || names.Contains(c.Name, StringComparer.OrdinalIgnoreCase)).ToArray();
        if (cases.Length == 0)
        {
            throw new ArgumentException($"No such case; the cases are: {string.Join(", ", CaseNames)}", nameof(names));
        }

        var pairs = cases.Select(c => c.Create(cpu).Start()).ToArray();
        try
        {
            // Warm-up: tiered compilation promotes hot methods only after ~100 ms without new first-tier code, so
            // a few batches are not enough for a case run alone; two seconds are, with margin.
            long warmUpStart = Stopwatch.GetTimestamp();
            int warmUpRounds = 0;
            while (Stopwatch.GetElapsedTime(warmUpStart) < s_warmUp)
            {
                foreach (var pair in pairs)
                {
                    pair.Run(HandoffBenchmarks.RoundTrips);
                }

                warmUpRounds++;
            }

            var perRoundTrip = InterleavedRounds.Measure([.. pairs.Select(p => (Action<int>)(n => p.Run(n)))], rounds, HandoffBenchmarks.RoundTrips);
            Console.WriteLine($"Interleaved, Placement={placement}, {rounds} rounds of {HandoffBenchmarks.RoundTrips} round trips per case");
            Console.WriteLine();
            InterleavedRounds.Print("Method", "Ratio (median)", [.. cases.Select(c => c.Name)], new int[cases.Length], perRoundTrip, ratioDecimals: 2);

            // For normalising a profiler's counts: everything each case ran, setup aside.
            Console.WriteLine();
            Console.WriteLine($"Round trips per case in all, warm-up included: {(long)(warmUpRounds + rounds) * HandoffBenchmarks.RoundTrips}");
        }
        finally
        {
            foreach (var pair in pairs)
            {
                pair.Dispose();
            }
        }
    }
}
