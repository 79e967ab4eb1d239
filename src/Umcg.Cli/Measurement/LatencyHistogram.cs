using HdrHistogram;

namespace Umcg.Cli.Measurement;

/// <summary>
/// Latency samples (ns) recorded from any thread into an HdrHistogram: three significant digits (every
/// percentile within 0.1% of the exact one), from 1 ns to an hour, in a fixed ~0.5 MiB however many samples
/// arrive. Recording takes no lock and allocates nothing.
/// </summary>
internal sealed class LatencyHistogram
{
    /// <summary>The largest latency kept; a longer one is counted in <see cref="Dropped"/>.</summary>
    public const long HighestNs = 3_600_000_000_000;

    /// <summary>
    /// The concurrent variant: its counts are updated with interlocked adds, so that samples recorded at the same
    /// moment on two threads are both kept (the plain histogram's increments would lose one).
    /// </summary>
    private readonly LongConcurrentHistogram _histogram = new(1, HighestNs, 3);

    private long _dropped;

    /// <summary>Samples recorded.</summary>
    public long Count => _histogram.TotalCount;

    /// <summary>Samples past <see cref="HighestNs"/>, not in the histogram.</summary>
    public long Dropped => Volatile.Read(ref _dropped);

    /// <summary>Records one latency; a negative one (a clock read out of order) as 0.</summary>
    public void Record(long ns)
    {
        if (ns > HighestNs)
        {
            Interlocked.Increment(ref _dropped);
            return;
        }

        _histogram.RecordValue(Math.Max(0, ns));
    }

    /// <summary>The latency (ns) at or below which <paramref name="percentile"/> (0–100) of the samples fall; 0 when empty.</summary>
    public long ValueAt(double percentile) => Count == 0 ? 0 : _histogram.GetValueAtPercentile(percentile);

    /// <summary>The largest sample (ns), within the histogram's precision.</summary>
    public long Max => _histogram.GetMaxValue();

    /// <summary>The mean (ns), within the histogram's precision; 0 when empty.</summary>
    public double Mean => Count == 0 ? 0 : _histogram.GetMean();

    /// <summary>(latency ns, fraction ≤ it) pairs of the distribution, denser towards the tail: for CDF plots.</summary>
    /// <param name="ticksPerHalfDistance">Points between the median and 100%, and again in every halving of the distance left.</param>
    public IEnumerable<(double Value, double Fraction)> Cdf(int ticksPerHalfDistance = 20) =>
        Count == 0
            ? []
            : _histogram.Percentiles(ticksPerHalfDistance).Select(v => ((double)v.ValueIteratedTo, v.Percentile / 100.0));
}
