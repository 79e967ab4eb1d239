using System.Runtime.CompilerServices;

namespace Umcg.Cli.Measurement;

/// <summary>
/// The workloads' own accounting of useful work: thread CPU time (CLOCK_THREAD_CPUTIME_ID) spent inside
/// compute sections, credited to the CPU the section started on, and how many sections run at once.
/// </summary>
/// <remarks>
/// A section is "running" from <see cref="Enter"/> to <see cref="Exit"/>, whether or not the OS has the
/// thread on a CPU at that moment: on plain threads, sections preempted by the OS still count, which is what
/// makes oversubscription visible in <see cref="MaxRunning"/>.
/// </remarks>
internal sealed class ComputeMeter
{
    // One cache line (8 longs) per CPU so that sections on different CPUs do not share a line.
    private const int Stride = 8;
    private readonly long[] _laneNs;
    private int _running;
    private int _maxRunning;
    private long _sections;

    public ComputeMeter(int cpus)
    {
        Lanes = Math.Max(1, cpus);
        _laneNs = new long[Lanes * Stride];
    }

    /// <summary>How many CPUs are accounted separately.</summary>
    public int Lanes { get; }

    /// <summary>The most compute sections that were running at once.</summary>
    public int MaxRunning => Volatile.Read(ref _maxRunning);

    /// <summary>Compute sections completed.</summary>
    public long Sections => Volatile.Read(ref _sections);

    /// <summary>Thread CPU time credited to <paramref name="lane"/> so far (ns).</summary>
    public long LaneNs(int lane) => Volatile.Read(ref _laneNs[lane * Stride]);

    /// <summary>Thread CPU time inside compute sections so far, all CPUs (ns).</summary>
    public long TotalNs()
    {
        long total = 0;
        for (int i = 0; i < Lanes; i++)
        {
            total += LaneNs(i);
        }

        return total;
    }

    /// <summary>Starts a section on the calling thread.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Section Enter()
    {
        int now = Interlocked.Increment(ref _running);
        int max;
        while (now > (max = Volatile.Read(ref _maxRunning)) && Interlocked.CompareExchange(ref _maxRunning, now, max) != max)
        {
        }

        return new Section(Native.CurrentCpu() % Lanes, Native.ThreadCpuNs());
    }

    /// <summary>Ends a section started on the calling thread; returns its CPU time (ns).</summary>
    public long Exit(Section section)
    {
        long ran = Native.ThreadCpuNs() - section.CpuStartNs;
        Interlocked.Add(ref _laneNs[section.Lane * Stride], ran);
        Interlocked.Increment(ref _sections);
        Interlocked.Decrement(ref _running);
        return ran;
    }

    /// <summary>An open compute section.</summary>
    public readonly record struct Section(int Lane, long CpuStartNs);
}
