namespace Umcg.Cli.Measurement;

/// <summary>Nearest-rank percentiles of sorted samples.</summary>
internal static class Percentiles
{
    /// <summary>The <paramref name="p"/>-th percentile (0–100) of ascending <paramref name="sorted"/>; null when empty.</summary>
    public static long? Of(long[] sorted, double p)
    {
        if (sorted.Length == 0)
        {
            return null;
        }

        int rank = (int)Math.Ceiling(p / 100.0 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    /// <summary>At most <paramref name="points"/> (value, fraction ≤ value) pairs of the empirical CDF, denser in the tail.</summary>
    public static List<(double Value, double Fraction)> Cdf(long[] sorted, int points = 400)
    {
        var cdf = new List<(double, double)>();
        if (sorted.Length == 0)
        {
            return cdf;
        }

        // Evenly spaced in -log10(1 - q), so that p99, p99.9 and p99.99 get as many points as the body.
        double maxNines = Math.Log10(sorted.Length);
        for (int i = 0; i <= points; i++)
        {
            double nines = maxNines * i / points;
            double q = 1 - Math.Pow(10, -nines);
            int index = Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1);
            cdf.Add((sorted[index], (index + 1.0) / sorted.Length));
        }

        return cdf;
    }
}
