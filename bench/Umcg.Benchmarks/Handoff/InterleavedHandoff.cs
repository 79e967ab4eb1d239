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

            var perRoundTrip = pairs.Select(_ => new double[rounds]).ToArray();
            for (int r = 0; r < rounds; r++)
            {
                for (int c = 0; c < pairs.Length; c++)
                {
                    long start = Stopwatch.GetTimestamp();
                    pairs[c].Run(HandoffBenchmarks.RoundTrips);
                    perRoundTrip[c][r] = Stopwatch.GetElapsedTime(start).TotalMicroseconds / HandoffBenchmarks.RoundTrips;
                }
            }

            Print(placement, rounds, cases, perRoundTrip);

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

    private static void Print(Placement placement, int rounds, (string Name, Func<int?, PingPongPair> Create)[] cases, double[][] perRoundTrip)
    {
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine($"Interleaved, Placement={placement}, {rounds} rounds of {HandoffBenchmarks.RoundTrips} round trips per case");
        Console.WriteLine();
        Console.WriteLine("| Method | Median per round trip | Ratio (median) | Ratio (p25–p75) |");
        Console.WriteLine("|---|---:|---:|---:|");
        for (int c = 0; c < cases.Length; c++)
        {
            double[] ratios = [.. perRoundTrip[c].Zip(perRoundTrip[0], (mine, floor) => mine / floor).Order()];
            double[] times = [.. perRoundTrip[c].Order()];
            Console.WriteLine(string.Format(
                inv,
                "| {0} | {1:F3} us | {2:F2} | {3:F2}–{4:F2} |",
                cases[c].Name,
                times[rounds / 2],
                ratios[rounds / 2],
                ratios[rounds / 4],
                ratios[3 * rounds / 4]));
        }
    }
}
