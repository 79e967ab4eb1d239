namespace Umcg.Benchmarks.Handoff;

/// <summary>
/// The measuring core of the interleaved reports (<see cref="InterleavedHandoff"/>, the trace overhead): one batch
/// of every case in turn, round after round, so that neighbouring batches see the same load; then a Markdown
/// table of each case against a baseline batch of the same round.
/// </summary>
public static class InterleavedRounds
{
    /// <summary>Times <paramref name="rounds"/> rounds of one batch of <paramref name="roundTrips"/> per case.</summary>
    /// <returns>Microseconds per round trip, indexed [case][round].</returns>
    public static double[][] Measure(IReadOnlyList<Action<int>> batches, int rounds, int roundTrips)
    {
        ArgumentNullException.ThrowIfNull(batches);
        var perRoundTrip = batches.Select(_ => new double[rounds]).ToArray();
        for (int r = 0; r < rounds; r++)
        {
            for (int c = 0; c < batches.Count; c++)
            {
                long start = Stopwatch.GetTimestamp();
                batches[c](roundTrips);
                perRoundTrip[c][r] = Stopwatch.GetElapsedTime(start).TotalMicroseconds / roundTrips;
            }
        }

        return perRoundTrip;
    }

    /// <summary>
    /// Prints the table: per case its median time per round trip, and the median and interquartile range of its
    /// ratios to the batch of case <paramref name="baselines"/>[case] of the same round.
    /// </summary>
    /// <param name="caseColumn">The first column's heading.</param>
    /// <param name="ratioColumn">The heading of the median ratio's column.</param>
    /// <param name="names">The cases' names.</param>
    /// <param name="baselines">Per case, the index of the case it is compared with.</param>
    /// <param name="perRoundTrip">What <see cref="Measure"/> returned.</param>
    /// <param name="ratioDecimals">Decimals of the ratios.</param>
    public static void Print(string caseColumn, string ratioColumn, IReadOnlyList<string> names, IReadOnlyList<int> baselines, double[][] perRoundTrip, int ratioDecimals)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(baselines);
        ArgumentNullException.ThrowIfNull(perRoundTrip);
        string ratio = $"F{ratioDecimals}";
        Console.WriteLine($"| {caseColumn} | Median per round trip | {ratioColumn} | Ratio (p25–p75) |");
        Console.WriteLine("|---|---:|---:|---:|");
        for (int c = 0; c < names.Count; c++)
        {
            int rounds = perRoundTrip[c].Length;
            double[] ratios = [.. perRoundTrip[c].Zip(perRoundTrip[baselines[c]], (mine, baseline) => mine / baseline).Order()];
            double[] times = [.. perRoundTrip[c].Order()];
            Console.WriteLine(string.Format(
                CultureInfo.InvariantCulture,
                $"| {{0}} | {{1:F3}} us | {{2:{ratio}}} | {{3:{ratio}}}–{{4:{ratio}}} |",
                names[c],
                times[rounds / 2],
                ratios[rounds / 2],
                ratios[rounds / 4],
                ratios[3 * rounds / 4]));
        }
    }
}
