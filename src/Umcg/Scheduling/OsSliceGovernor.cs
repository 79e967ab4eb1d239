using Umcg.Abi;
using Umcg.Kernel;

namespace Umcg.Scheduling;

/// <summary>
/// Which OS time slice the scheduler's threads ask for now (<see cref="UmcgSchedulerOptions.OsTimeSlice"/>, under
/// <see cref="UmcgSchedulerOptions.OsTimeSliceMode"/>).
/// <para>
/// The short slice is for a machine shared with busy processes: there a woken thread of ours with the OS's slice
/// waits out such a process's whole turn, at every hand-off (ThreadSlice.Linux.cs). On a machine the process has to
/// itself it buys nothing, and costs switches: once a worker has run longer than its slice, any thread that wakes on
/// its CPU — a worker leaving a blocking region to queue itself, a successor — takes the CPU from it at the next
/// system call or tick (quiet <c>mixed</c>, sections of 100–600 µs: 0.49 involuntary switches per iteration at 500 µs,
/// 0.27–0.30 with the OS's slice). So under <see cref="OsTimeSliceMode.WhenContended"/> the slice follows the others'
/// CPU time: asked while they take at least <see cref="ContendedCpus"/>, given up after
/// <see cref="QuietSamplesToRelax"/> samples in a row below half that.
/// </para>
/// <para>
/// Servers sample as they turn and workers as they enter a blocking region (<see cref="MaybeSample"/>), one per window:
/// the window's CAS elects the sampler, and the decision is taken under a lock in case a slow sample overlaps the next
/// window's. Each thread compares the slice it
/// last asked with <see cref="CurrentNs"/> where it already makes a scheduling call — a server at every turn, a worker
/// at each class change point (B1–B3) — and asks again when they differ: one system call per thread per change, none
/// otherwise. A thread asleep keeps its old slice until it next passes such a point. An adapting governor starts with
/// the OS's slice and asks the short one from the first sample that finds the CPUs contended, a window after the start.
/// </para>
/// </summary>
internal sealed class OsSliceGovernor
{
    /// <summary>How often the others' CPU time is sampled, in ms.</summary>
    internal const long SampleIntervalMs = 250;

    /// <summary>Samples in a row below half the threshold before the OS's slice comes back: one second.</summary>
    internal const int QuietSamplesToRelax = 4;

    private readonly long _askedNs;
    private readonly Func<long, double?>? _sample;
    private readonly Lock _decide = new();

    // The slice threads ask for now: _askedNs while contended, 0 (the OS's own) otherwise. Written under _decide,
    // read anywhere: a thread that reads the old value asks the new one at its next look.
    private long _currentNs;

    // When the next sample is due (Environment.TickCount64: a coarse clock, cheap enough for every worker's block); the
    // CAS on it elects one sampler per window.
    private long _nextSampleMs;

    // Under _decide. An adapting governor starts with the OS's slice: a sample that finds the CPUs contended asks the
    // short one within a window (the baseline is read at construction), where giving it up takes four.
    private bool _contended;
    private int _quietSamples;
    private long _changes;

    /// <param name="askedNs">The configured slice (0: none, the OS's own always).</param>
    /// <param name="cpus">The CPUs the machine has: the threshold scales with them up to half a CPU.</param>
    /// <param name="sample">
    /// The others' CPUs since the last call, at the given monotonic time (null when unreadable or a baseline); null
    /// when the slice is fixed (<see cref="OsTimeSliceMode.Always"/>, no slice, or no way to sample).
    /// </param>
    public OsSliceGovernor(long askedNs, int cpus, Func<long, double?>? sample)
    {
        _askedNs = askedNs;
        _sample = askedNs > 0 ? sample : null;
        _contended = _sample is null;
        _currentNs = _contended ? askedNs : 0;
        ContendedCpus = Math.Min(0.1 * Math.Max(1, cpus), 0.5);
        _sample?.Invoke(KernelClock.Now(ClockId.Monotonic)); // the baseline
        _nextSampleMs = Environment.TickCount64 + SampleIntervalMs;
    }

    /// <summary>The others' CPU time, in CPUs, at or above which the short slice is asked.</summary>
    public double ContendedCpus { get; }

    /// <summary>Whether the slice follows the others' CPU time (else it is fixed).</summary>
    public bool Adapts => _sample is not null;

    /// <summary>The slice to ask for now, in ns (0: the OS's own).</summary>
    public long CurrentNs => Volatile.Read(ref _currentNs);

    /// <summary>How many times the slice changed since the start.</summary>
    public long Changes
    {
        get
        {
            lock (_decide)
            {
                return _changes;
            }
        }
    }

    /// <summary>
    /// Samples the others' CPU time if this window has not been sampled yet: called by a server at every turn and by a
    /// worker as it enters a blocking region, so that the samples go on while servers sleep open and workers hand the
    /// CPUs on among themselves. Two loads when no sample is due.
    /// </summary>
    public void MaybeSample()
    {
        if (_sample is null)
        {
            return;
        }

        long now = Environment.TickCount64;
        long due = Volatile.Read(ref _nextSampleMs);
        if (now < due || Interlocked.CompareExchange(ref _nextSampleMs, now + SampleIntervalMs, due) != due)
        {
            return;
        }

        if (_sample(KernelClock.Now(ClockId.Monotonic)) is { } others)
        {
            Decide(others);
        }
    }

    /// <summary>One sample's verdict: the others took <paramref name="othersCpus"/> CPUs since the last one.</summary>
    internal void Decide(double othersCpus)
    {
        if (!Adapts)
        {
            return;
        }

        lock (_decide)
        {
            if (othersCpus >= ContendedCpus)
            {
                _quietSamples = 0;
                Set(contended: true);
            }
            else if (othersCpus < ContendedCpus / 2 && ++_quietSamples >= QuietSamplesToRelax)
            {
                Set(contended: false);
            }
            else if (othersCpus >= ContendedCpus / 2)
            {
                _quietSamples = 0;
            }
        }
    }

    private void Set(bool contended)
    {
        if (contended == _contended)
        {
            return;
        }

        _contended = contended;
        _changes++;
        Volatile.Write(ref _currentNs, contended ? _askedNs : 0);
    }
}
