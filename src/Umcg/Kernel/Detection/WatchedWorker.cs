namespace Umcg.Kernel.Detection;

/// <summary>
/// The detector's record of one worker thread: its switch ring (if the kernel gave one), its /proc files,
/// and what the detector last concluded about it.
/// </summary>
/// <remarks>
/// Created on the worker's own thread when it registers with the detector; from then on every field below
/// is read and written by the detector thread only, which also disposes the record after the worker left
/// (<see cref="Retired"/>), so the ring is never unmapped under a reader.
/// </remarks>
internal sealed class WatchedWorker(int tid, IResumeStamp resumed, SwitchRing? ring, ProcThreadFiles proc) : IDisposable
{
    public int Tid { get; } = tid;

    /// <summary>When the worker last came back from a kernel-half call to run its own code (see <see cref="BlockingDetector.AddWorker(int, Func{long})"/>).</summary>
    public long ResumedAtNs() => resumed.ResumedAtNs;

    /// <summary>Null: the kernel refused switch events for this thread; the monitor watches it.</summary>
    public SwitchRing? Ring { get; } = ring;

    public ProcThreadFiles Proc { get; } = proc;

    /// <summary>Set by the worker's thread when it leaves; the detector thread then disposes the record.</summary>
    public volatile bool Retired;

    // The monitor's pending observation: asleep since MonitorSince (first seen), with this run count and
    // runnable_ts. Only the same sleep, unbroken, counts towards the threshold.
    public bool MonitorPending;
    public long MonitorSinceNs;
    public long MonitorRuns;
    public ulong MonitorRunnableTs;

    // Set when the detector marked the worker blocked: its CPU time then, to count what it ran unmanaged
    // before reaching its next safepoint.
    public bool Marked;
    public long RuntimeAtMarkNs;
    public ulong RunnableTsAtMark;

    // Set once the marked worker was reported running on unmanaged (RunsOnUnmanaged), so that it is reported once.
    public bool ReportedRunningOn;

    public void ForgetObservations() => MonitorPending = false;

    public void Dispose()
    {
        Ring?.Dispose();
        Proc.Dispose();
    }
}
