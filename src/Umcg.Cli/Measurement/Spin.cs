using System.Runtime.CompilerServices;

namespace Umcg.Cli.Measurement;

/// <summary>
/// The workloads' unit of CPU work: a dependent integer loop the JIT cannot remove, calibrated once per process
/// so that a section can be asked for in microseconds. Every system runs the very same loop.
/// </summary>
internal static class Spin
{
    private static readonly Lazy<double> s_iterationsPerUs = new(Calibrate);
    private static long s_sink;

    /// <summary>Loop iterations per microsecond of CPU on this machine.</summary>
    public static double IterationsPerUs => s_iterationsPerUs.Value;

    /// <summary>Iterations that take about <paramref name="us"/> µs of CPU.</summary>
    public static long IterationsFor(double us) => Math.Max(1, (long)(us * IterationsPerUs));

    /// <summary>Runs <paramref name="iterations"/> iterations; <paramref name="safepoint"/> is called every <paramref name="every"/> iterations.</summary>
    public static void Run(long iterations, Action? safepoint = null, long every = long.MaxValue)
    {
        ulong x = 0x9E3779B97F4A7C15UL ^ (ulong)iterations;
        long done = 0;
        while (done < iterations)
        {
            long chunk = Math.Min(every, iterations - done);
            x = Loop(x, chunk);
            done += chunk;
            if (done < iterations)
            {
                safepoint?.Invoke();
            }
        }

        Volatile.Write(ref s_sink, (long)x);
    }

    // Optimized from the first call: no tier-0 code or on-stack replacement changing its speed mid-run.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static ulong Loop(ulong x, long n)
    {
        for (long i = 0; i < n; i++)
        {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }

        return x;
    }

    // The fastest of a few trials of thread CPU time: interference only ever makes a trial slower.
    private static double Calibrate()
    {
        const long N = 2_000_000;
        Loop(1, N);
        double best = double.MaxValue;
        for (int trial = 0; trial < 5; trial++)
        {
            long t0 = LinuxSyscalls.ThreadCpuNs();
            Volatile.Write(ref s_sink, (long)Loop((ulong)trial + 1, N));
            long ns = Math.Max(1, LinuxSyscalls.ThreadCpuNs() - t0);
            best = Math.Min(best, ns);
        }

        return N / (best / 1000.0);
    }
}
