namespace Umcg.Benchmarks.Detection;

/// <summary>Order statistics of a sample.</summary>
internal static class Percentiles
{
    /// <summary>The <paramref name="p"/>-th percentile (nearest rank) of <paramref name="values"/>.</summary>
    public static double Of(IReadOnlyCollection<double> values, double p)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToArray();
        int rank = (int)Math.Ceiling(p / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    public static double Median(IReadOnlyCollection<double> values) => Of(values, 50);
}
