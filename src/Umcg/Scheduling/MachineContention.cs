using Umcg.Abi;
using Umcg.Kernel;

namespace Umcg.Scheduling;

/// <summary>
/// Whether other processes keep this machine's CPUs busy: the fact <see cref="OsTimeSliceMode.WhenContended"/> follows
/// (see <see cref="OsSliceGovernor"/>). Contended from the first sample at or above <see cref="ContendedCpus"/> of the
/// others' CPU time, quiet after <see cref="QuietSamplesToRelax"/> samples in a row below half that.
/// <para>
/// A fact of the machine, not of one scheduler: the process shares one (<see cref="Acquire"/>), so that a scheduler
/// started after another begins from what the process already knows, and one timer samples for all. The timer samples
/// every <see cref="SampleIntervalMs"/> on the thread pool — not on the servers or the workers, whose turns grow rare
/// exactly when other processes take their CPUs — while at least one scheduler holds the shared instance. A process's
/// first one starts contended, so that a process started on a busy machine never runs its hand-offs with the OS's
/// slice: one that began that way beside two busy processes (<c>colocation</c> beside <c>stress-ng --cpu 2</c>)
/// queued requests faster than it ran them, each on a thread still waiting with the OS's slice, and did not recover in
/// the run.
/// </para>
/// </summary>
internal sealed class MachineContention
{
    /// <summary>How often the others' CPU time is sampled, in ms.</summary>
    internal const int SampleIntervalMs = 250;

    /// <summary>Samples in a row below half the threshold before the machine counts as quiet: one second.</summary>
    internal const int QuietSamplesToRelax = 4;

    private static readonly Lock s_sharedLock = new();
    private static MachineContention? s_shared;
    private static int s_holders;

    private readonly Func<long, double?> _sample;
    private readonly Lock _decide = new();
    private Timer? _timer;

    // Read anywhere; written under _decide. A thread that reads the old value follows the new one at its next look.
    private volatile bool _contended = true;

    // Under _decide (timer callbacks may overlap when one is slow).
    private int _quietSamples;
    private long _changes;

    /// <param name="cpus">The CPUs the machine has: the threshold scales with them up to half a CPU.</param>
    /// <param name="sample">The others' CPUs since the last call, at the given monotonic time; null when unreadable or a baseline.</param>
    public MachineContention(int cpus, Func<long, double?> sample)
    {
        _sample = sample;
        ContendedCpus = Math.Min(0.1 * Math.Max(1, cpus), 0.5);
        _sample(KernelClock.Now(ClockId.Monotonic)); // the baseline
    }

    /// <summary>The others' CPU time, in CPUs, at or above which the machine is contended.</summary>
    public double ContendedCpus { get; }

    /// <summary>Whether other processes keep the CPUs busy, as the last samples found.</summary>
    public bool Contended => _contended;

    /// <summary>How many times <see cref="Contended"/> changed since this instance began.</summary>
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

    /// <summary>The process's shared instance, its timer running while anyone holds it; give it back with <see cref="Release"/>.</summary>
    public static MachineContention Acquire()
    {
        lock (s_sharedLock)
        {
            s_shared ??= new MachineContention(Environment.ProcessorCount, new OthersCpu().TrySampleOrNull);
            if (s_holders++ == 0)
            {
                s_shared.StartTimer();
            }

            return s_shared;
        }
    }

    /// <summary>Gives back what <see cref="Acquire"/> returned: the last holder stops the timer (the state stays for the next).</summary>
    public static void Release(MachineContention contention)
    {
        lock (s_sharedLock)
        {
            if (ReferenceEquals(contention, s_shared) && --s_holders == 0)
            {
                s_shared.StopTimer();
            }
        }
    }

    /// <summary>Starts sampling on a timer (a private instance's owner calls it; the shared one starts with its first holder).</summary>
    public void StartTimer()
    {
        // No captured context: the callback belongs to the scheduler, not to whoever started it.
        using (ExecutionContext.SuppressFlow())
        {
            _timer ??= new Timer(static state => ((MachineContention)state!).SampleNow(), this, SampleIntervalMs, SampleIntervalMs);
        }
    }

    /// <summary>Stops the timer; the state stays as it is.</summary>
    public void StopTimer()
    {
        _timer?.Dispose();
        _timer = null;
    }

    /// <summary>Takes a sample and decides on it (the timer's callback).</summary>
    internal void SampleNow()
    {
        if (_sample(KernelClock.Now(ClockId.Monotonic)) is { } others)
        {
            Decide(others);
        }
    }

    /// <summary>One sample's verdict: the others took <paramref name="othersCpus"/> CPUs since the last one.</summary>
    internal void Decide(double othersCpus)
    {
        lock (_decide)
        {
            if (othersCpus >= ContendedCpus)
            {
                _quietSamples = 0;
                Set(contended: true);
            }
            else if (othersCpus >= ContendedCpus / 2)
            {
                _quietSamples = 0;
            }
            else if (++_quietSamples >= QuietSamplesToRelax)
            {
                Set(contended: false);
            }
        }
    }

    private void Set(bool contended)
    {
        if (contended != _contended)
        {
            _contended = contended;
            _changes++;
        }
    }
}
