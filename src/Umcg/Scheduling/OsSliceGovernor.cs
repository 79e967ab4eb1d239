namespace Umcg.Scheduling;

/// <summary>
/// Which OS time slice a scheduler's threads ask for now (<see cref="UmcgSchedulerOptions.OsTimeSlice"/>, under
/// <see cref="UmcgSchedulerOptions.OsTimeSliceMode"/>).
/// <para>
/// The short slice is for a machine shared with busy processes: there a woken thread of ours with the OS's slice
/// waits out such a process's whole turn, at every hand-off (ThreadSlice.Linux.cs). On a machine the process has to
/// itself it buys nothing, and costs switches: once a worker has run longer than its slice, any thread that wakes on
/// its CPU — a worker leaving a blocking region to queue itself, a successor — takes the CPU from it at the next
/// system call or tick (quiet <c>mixed</c>, sections of 100–600 µs: 0.46 involuntary switches per iteration at 500 µs,
/// about 0.21 with the OS's slice). So under <see cref="OsTimeSliceMode.WhenContended"/> the slice follows
/// <see cref="MachineContention"/>: the configured one while the machine is contended, the OS's own otherwise.
/// </para>
/// <para>
/// Each thread compares the slice it last asked with <see cref="CurrentNs"/> where it already makes a scheduling call —
/// a server at every turn, a worker at each class change point (B1–B3) — and asks again when they differ: one system
/// call per thread per change, none otherwise. A thread asleep keeps its old slice until it next passes such a point.
/// </para>
/// </summary>
internal sealed class OsSliceGovernor : IDisposable
{
    private readonly long _askedNs;
    private readonly MachineContention? _contention;
    private readonly bool _shared;
    private readonly long _changesBefore;

    // Set by the one Dispose that gives the shared contention back: each Acquire is matched by exactly one Release,
    // or the process's sampling thread would stop while another scheduler still holds it (or never stop).
    private int _disposed;

    /// <param name="askedNs">The configured slice (0: none, the OS's own always).</param>
    /// <param name="contention">What to follow; null for a fixed slice.</param>
    /// <param name="shared">Whether <paramref name="contention"/> is the process's (<see cref="MachineContention.Acquire"/>): given back at <see cref="Dispose"/>.</param>
    public OsSliceGovernor(long askedNs, MachineContention? contention, bool shared)
    {
        _askedNs = askedNs;
        _contention = askedNs > 0 ? contention : null;
        _shared = shared;
        _changesBefore = contention?.Changes ?? 0;
    }

    /// <summary>Whether the slice follows the machine's contention (else it is fixed).</summary>
    public bool Adapts => _contention is not null;

    /// <summary>What the slice follows; null when it is fixed.</summary>
    internal MachineContention? Contention => _contention;

    /// <summary>The slice to ask for now, in ns (0: the OS's own).</summary>
    public long CurrentNs => _contention is null || _contention.Contended ? _askedNs : 0;

    /// <summary>How many times the slice changed since this scheduler began.</summary>
    public long Changes => _contention is null ? 0 : _contention.Changes - _changesBefore;

    /// <summary>Gives the process's contention back (its sampling stops with the last holder); the slice stays as it is.</summary>
    public void Dispose()
    {
        if (_shared && _contention is not null && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            MachineContention.Release(_contention);
        }
    }
}
