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
/// <para>On a system with servers (<see cref="Servers"/>), a section counts towards <see cref="MaxRunning"/>
/// only while its task holds a server. A worker that a blocking detector marks blocked for a sleep of its own
/// (on a loaded machine even a CPU-bound worker sleeps: the JIT waiting for the memory-map lock) goes on
/// running unmanaged from the end of that sleep to its next safepoint, beside the worker its server runs
/// meanwhile (docs/detection.md, Limits). That is N + 1 sections open on N servers, and it is counted in
/// <see cref="MaxOpen"/>, not as a broken at-most-N.</para>
/// </remarks>
internal sealed class ComputeMeter
{
    // One cache line (8 longs) per CPU so that sections on different CPUs do not share a line.
    private const int Stride = 8;

    // Sections listed at once on a system with servers. A section past them is counted as open only: no entry sees it
    // holding a server. On Umcg the open sections are the servers' and the few a detector marked (see remarks), far
    // below this.
    private const int OpenSlots = 1024;
    private readonly long[] _laneNs;

    // The task of each open section on a system with servers (0: a free slot), claimed by CAS from the lowest free
    // slot. _slotsInUse is the most slots ever in use at once (it only rises), where the scan in Enter stops. Not a
    // concurrent dictionary: its key snapshot takes every lock and allocates, a cost the systems without servers would
    // not pay.
    private readonly int[] _openTasks = new int[OpenSlots];
    private int _slotsInUse;
    private int _running;
    private int _maxRunning;
    private int _maxOpen;
    private long _sections;

    public ComputeMeter(int cpus)
    {
        Lanes = Math.Max(1, cpus);
        _laneNs = new long[Lanes * Stride];
    }

    /// <summary>How many CPUs are accounted separately.</summary>
    public int Lanes { get; }

    /// <summary>
    /// Set on a system with servers: sections then count as running only while their task holds a server.
    /// Set before the first section.
    /// </summary>
    public IServerView? Servers { get; set; }

    /// <summary>The most compute sections that were running at once (holding a server, on a system with servers).</summary>
    public int MaxRunning => Volatile.Read(ref _maxRunning);

    /// <summary>The most compute sections that were open at once, whatever their task was doing.</summary>
    public int MaxOpen => Volatile.Read(ref _maxOpen);

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
        int open = Interlocked.Increment(ref _running);
        RaiseTo(ref _maxOpen, open);
        int task = 0;
        int slot = -1;
        if (Servers is { } servers && (task = servers.CurrentTask()) != 0)
        {
            // Counted after this section is listed (a CAS), and the slots in use read after that: of two sections
            // entering at once, the one that reads _slotsInUse last sees the other.
            slot = Claim(task);
            int holding = 0;
            int inUse = Volatile.Read(ref _slotsInUse);
            for (int i = 0; i < inUse; i++)
            {
                int other = Volatile.Read(ref _openTasks[i]);
                holding += other != 0 && servers.HoldsServer(other) ? 1 : 0;
            }

            RaiseTo(ref _maxRunning, holding);
        }
        else
        {
            RaiseTo(ref _maxRunning, open);
        }

        return new Section(LinuxSyscalls.CurrentCpu() % Lanes, LinuxSyscalls.ThreadCpuNs(), slot + 1);
    }

    /// <summary>Ends a section started on the calling thread; returns its CPU time (ns).</summary>
    public long Exit(Section section)
    {
        long ran = LinuxSyscalls.ThreadCpuNs() - section.CpuStartNs;
        Interlocked.Add(ref _laneNs[section.Lane * Stride], ran);
        Interlocked.Increment(ref _sections);
        if (section.ListedAt > 0)
        {
            Volatile.Write(ref _openTasks[section.ListedAt - 1], 0);
        }

        Interlocked.Decrement(ref _running);
        return ran;
    }

    /// <summary>Lists <paramref name="task"/> in the lowest free slot (a full fence); -1 if every slot is taken.</summary>
    private int Claim(int task)
    {
        for (int i = 0; i < OpenSlots; i++)
        {
            if (Volatile.Read(ref _openTasks[i]) == 0 && Interlocked.CompareExchange(ref _openTasks[i], task, 0) == 0)
            {
                RaiseTo(ref _slotsInUse, i + 1);
                return i;
            }
        }

        return -1;
    }

    private static void RaiseTo(ref int max, int value)
    {
        int seen;
        while (value > (seen = Volatile.Read(ref max)) && Interlocked.CompareExchange(ref max, value, seen) != seen)
        {
        }
    }

    /// <summary>
    /// An open compute section; <paramref name="ListedAt"/> is 1 + the slot listing its task on a system with servers,
    /// else 0 (so that a default section lists nothing).
    /// </summary>
    public readonly record struct Section(int Lane, long CpuStartNs, int ListedAt = 0);
}
