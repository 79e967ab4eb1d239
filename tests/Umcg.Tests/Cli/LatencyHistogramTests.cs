using Umcg.Cli.Measurement;

namespace Umcg.Tests.Cli;

/// <summary>
/// The latency recorder on HdrHistogram does what the tool's figures need: percentiles within the stated
/// precision of the exact ones, no sample lost when threads record at once, no allocation per sample, and a
/// sample past the range counted rather than thrown.
/// </summary>
public class LatencyHistogramTests
{
    [Fact]
    public void Percentiles_are_within_the_histograms_precision_of_the_exact_ones()
    {
        var random = new Random(42);
        var histogram = new LatencyHistogram();
        long[] samples = new long[200_000];
        for (int i = 0; i < samples.Length; i++)
        {
            samples[i] = (long)Math.Pow(10, 3 + (random.NextDouble() * 5)); // 1 µs to 100 ms, log-uniform
            histogram.Record(samples[i]);
        }

        Array.Sort(samples);
        Assert.Equal(samples.Length, histogram.Count);
        foreach (double p in new[] { 50, 90, 99, 99.9, 99.99 })
        {
            long exact = samples[(int)Math.Ceiling(p / 100 * samples.Length) - 1]; // nearest rank
            Assert.InRange(histogram.ValueAt(p), exact * 0.998, exact * 1.002);
        }

        Assert.InRange(histogram.Max, samples[^1] * 0.998, samples[^1] * 1.002);
        Assert.InRange(histogram.Mean, samples.Average() * 0.998, samples.Average() * 1.002);
    }

    [Fact]
    public void Threads_recording_at_once_lose_no_sample()
    {
        const int Threads = 4;
        const int PerThread = 250_000;
        for (int iteration = 0; iteration < 5; iteration++)
        {
            var histogram = new LatencyHistogram();
            using var start = new Barrier(Threads);
            var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
            {
                start.SignalAndWait();
                for (int i = 0; i < PerThread; i++)
                {
                    histogram.Record(1000 + (i % 7)); // few distinct values: the threads hit the same counts
                }
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());

            Assert.Equal(Threads * PerThread, histogram.Count);
            Assert.Equal(Threads * PerThread, histogram.Cdf().Last().Fraction * histogram.Count);
        }
    }

    [Fact]
    public void Recording_allocates_nothing()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(1); // first call: anything lazily made is made now
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (long i = 0; i < 100_000; i++)
        {
            histogram.Record(i * 997);
        }

        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    [Fact]
    public void A_sample_past_the_range_is_counted_as_dropped_and_a_negative_one_as_zero()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(LatencyHistogram.HighestNs + 1);
        histogram.Record(-5);
        histogram.Record(2000);
        Assert.Equal(1, histogram.Dropped);
        Assert.Equal(2, histogram.Count);
        Assert.Equal(0, histogram.ValueAt(50));
    }

    [Fact]
    public void An_empty_histogram_reads_as_zeros()
    {
        var histogram = new LatencyHistogram();
        Assert.Equal((0L, 0L, 0L, 0.0), (histogram.Count, histogram.ValueAt(99), histogram.Max, histogram.Mean));
        Assert.Empty(histogram.Cdf());
    }

    [Fact]
    public void Cdf_rises_to_one_and_is_denser_in_the_tail()
    {
        var histogram = new LatencyHistogram();
        for (int i = 1; i <= 100_000; i++)
        {
            histogram.Record(i);
        }

        var cdf = histogram.Cdf().ToList();
        Assert.Equal(1.0, cdf[^1].Fraction);
        Assert.True(cdf.Zip(cdf.Skip(1)).All(pair => pair.First.Fraction <= pair.Second.Fraction && pair.First.Value <= pair.Second.Value));
        Assert.True(cdf.Count(p => p.Fraction >= 0.99) > cdf.Count(p => p.Fraction < 0.5) / 2, "the tail gets points of its own");
    }
}
