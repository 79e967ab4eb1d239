using System.Runtime.CompilerServices;

namespace Umcg.Benchmarks.Detection;

/// <summary>A fixed amount of CPU work, calibrated once on an idle thread: useful work is counted in chunks.</summary>
internal sealed class ComputeChunk
{
    private ComputeChunk(int iterations, double nanoseconds)
    {
        Iterations = iterations;
        Nanoseconds = nanoseconds;
    }

    public int Iterations { get; }

    /// <summary>Median time of one chunk alone on a CPU.</summary>
    public double Nanoseconds { get; }

    public static ComputeChunk Calibrate(TimeSpan target)
    {
        for (int i = 0; i < 100; i++)
        {
            Time(10_000);
        }

        int iterations = 1000;
        while (Time(iterations) < target.TotalNanoseconds)
        {
            iterations *= 2;
        }

        iterations = (int)(iterations * (target.TotalNanoseconds / Time(iterations)));
        var samples = Enumerable.Range(0, 51).Select(_ => Time(iterations)).ToArray();
        return new ComputeChunk(iterations, Percentiles.Median(samples));
    }

    // Fully optimized from the first call: tiered compilation would otherwise calibrate tier-0 code and
    // run tier-1 code several times faster.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static ulong Run(int iterations)
    {
        ulong x = 0x9E3779B97F4A7C15;
        for (int i = 0; i < iterations; i++)
        {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }

        return x;
    }

    private static double Time(int iterations)
    {
        var sw = Stopwatch.StartNew();
        GC.KeepAlive(Run(iterations));
        return sw.Elapsed.TotalNanoseconds;
    }
}
