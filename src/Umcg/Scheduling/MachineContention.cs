using Umcg.Abi;
using Umcg.Kernel;
using Umcg.Kernel.Native;

namespace Umcg.Scheduling;

/// <summary>
/// Whether other processes keep this machine's CPUs busy: the fact <see cref="OsTimeSliceMode.WhenContended"/> follows
/// (see <see cref="OsSliceGovernor"/>). Contended from the first sample at or above <see cref="ContendedCpus"/> of the
/// others' CPU time, quiet after <see cref="QuietSamplesToRelax"/> samples in a row below half that.
/// <para>
/// A fact of the machine, not of one scheduler: the process shares one (<see cref="Acquire"/>), so that a scheduler
/// started after another begins from what the process already knows, and one thread samples for all. That thread
/// samples every <see cref="SampleIntervalMs"/> while at least one scheduler holds the shared instance, under
/// <c>SCHED_BATCH</c> so that its wake-ups never preempt a worker — not the servers or the workers themselves, whose
/// turns grow rare exactly when other processes take their CPUs, and not a thread-pool timer, whose callbacks cost
/// quiet <c>mixed</c> 0.03–0.05 more involuntary switches per iteration (the pool's threads spin for work after each
/// one, on the workers' CPUs). A process's first one starts contended, so that a process started on a busy machine
/// never runs its hand-offs with the OS's slice: one that began that way beside two busy processes (<c>colocation</c>
/// beside <c>stress-ng --cpu 2</c>) queued requests faster than it ran them, each on a thread still waiting with the
/// OS's slice, and did not recover in the run.
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

    // The sampling thread of the current holding period, and how it is told to stop: set and replaced under
    // s_sharedLock (or by a private instance's owner); the thread reads its own stop event only.
    private ManualResetEventSlim? _stop;

    // Read anywhere; written under _decide. A thread that reads the old value follows the new one at its next look.
    private volatile bool _contended = true;

    // Under _decide (a sampling thread still leaving may overlap its successor for one sample).
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

    /// <summary>The process's shared instance, sampled while anyone holds it; give it back with <see cref="Release"/>.</summary>
    public static MachineContention Acquire()
    {
        lock (s_sharedLock)
        {
            s_shared ??= new MachineContention(Environment.ProcessorCount, new OthersCpu().TrySampleOrNull);
            if (s_holders++ == 0)
            {
                s_shared.StartSampling();
            }

            return s_shared;
        }
    }

    /// <summary>Gives back what <see cref="Acquire"/> returned: the last holder stops the sampling (the state stays for the next).</summary>
    public static void Release(MachineContention contention)
    {
        lock (s_sharedLock)
        {
            if (ReferenceEquals(contention, s_shared) && --s_holders == 0)
            {
                s_shared.StopSampling();
            }
        }
    }

    /// <summary>Starts a sampling thread (a private instance's owner calls it; the shared one starts with its first holder).</summary>
    public void StartSampling()
    {
        if (_stop is not null)
        {
            return;
        }

        // No spin before each wait: the slim event yields the CPU while it spins, and every yield that switches counts as
        // an involuntary switch of the process (about 30 a second were this thread's in the mixed workload).
        var stop = new ManualResetEventSlim(false, spinCount: 0);
        _stop = stop;
        var thread = new Thread(() => Sample(stop)) { IsBackground = true, Name = "umcg contention" };
        thread.UnsafeStart();
    }

    /// <summary>Tells the sampling thread to end (it does within a window; not joined); the state stays as it is.</summary>
    public void StopSampling()
    {
        _stop?.Set();
        _stop = null;
    }

    private void Sample(ManualResetEventSlim stop)
    {
        if (OperatingSystem.IsLinux())
        {
            LinuxSyscalls.SwitchFairClass(LinuxSyscalls.SchedOther, LinuxSyscalls.SchedBatch);
        }

        // The sampling interval of a background thread, not synchronisation: the stop event only ends it early.
        while (!stop.Wait(SampleIntervalMs))
        {
            SampleNow();
        }

        stop.Dispose();
    }

    /// <summary>Takes a sample and decides on it (the sampling thread's step; the sample under the lock, since it keeps the last readings).</summary>
    internal void SampleNow()
    {
        lock (_decide)
        {
            if (_sample(KernelClock.Now(ClockId.Monotonic)) is { } others)
            {
                DecideLocked(others);
            }
        }
    }

    /// <summary>One sample's verdict: the others took <paramref name="othersCpus"/> CPUs since the last one.</summary>
    internal void Decide(double othersCpus)
    {
        lock (_decide)
        {
            DecideLocked(othersCpus);
        }
    }

    private void DecideLocked(double othersCpus)
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

    private void Set(bool contended)
    {
        if (contended != _contended)
        {
            _contended = contended;
            _changes++;
        }
    }
}
