namespace Umcg.Kernel.Detection;

/// <summary>What a <see cref="BlockingDetector"/> did so far. Reads are racy snapshots, good for reports and tests.</summary>
public sealed class DetectionStats
{
    private long _polls;
    private long _markedByMonitor;
    private long _markedBySwitchEvents;
    private long _rejected;
    private long _markDelayNs;
    private long _unmanagedNs;
    private long _unmanagedRuns;
    private long _workersWithoutSwitchEvents;
    private long _detectorCpuNs;
    private long _calmPolls;

    /// <summary>Only a detector (or a scheduler whose detection is off) keeps counters.</summary>
    internal DetectionStats()
    {
    }

    /// <summary>Polls of the running workers.</summary>
    public long Polls => Volatile.Read(ref _polls);

    /// <summary>
    /// Polls taken at <see cref="DetectionOptions.CalmInterval"/>: workers ran, but none had been seen asleep for a
    /// while. Part of <see cref="Polls"/>.
    /// </summary>
    public long CalmPolls => Volatile.Read(ref _calmPolls);

    /// <summary>Workers marked blocked by the monitor.</summary>
    public long MarkedByMonitor => Volatile.Read(ref _markedByMonitor);

    /// <summary>Workers marked blocked from their switch records.</summary>
    public long MarkedBySwitchEvents => Volatile.Read(ref _markedBySwitchEvents);

    /// <summary>Workers marked blocked, by either detector.</summary>
    public long Marked => MarkedByMonitor + MarkedBySwitchEvents;

    /// <summary>
    /// Candidates dropped at the last check before marking: the worker was running or waiting for a CPU, was
    /// in its own UMCG wait, or changed state meanwhile.
    /// </summary>
    public long Rejected => Volatile.Read(ref _rejected);

    /// <summary>Summed time from the start of each detected sleep (as the detector knew it) to its mark.</summary>
    public TimeSpan MarkDelay => TimeSpan.FromTicks(Volatile.Read(ref _markDelayNs) / 100);

    /// <summary>
    /// CPU time that marked workers ran before they reached their next safepoint and took the unblock path:
    /// time when their server's CPU was shared with the worker the server ran meanwhile.
    /// </summary>
    public TimeSpan UnmanagedCpu => TimeSpan.FromTicks(Volatile.Read(ref _unmanagedNs) / 100);

    /// <summary>Marked workers whose unmanaged CPU time was counted (they left BLOCKED).</summary>
    public long UnmanagedRuns => Volatile.Read(ref _unmanagedRuns);

    /// <summary>Worker threads the kernel refused switch events for (watched by the monitor instead).</summary>
    public long WorkersWithoutSwitchEvents => Volatile.Read(ref _workersWithoutSwitchEvents);

    /// <summary>CPU time the detector thread has used so far (its own polls, reads and marks).</summary>
    public TimeSpan DetectorCpu => TimeSpan.FromTicks(Volatile.Read(ref _detectorCpuNs) / 100);

    internal void CountPoll() => Interlocked.Increment(ref _polls);

    internal void CountCalmPoll() => Interlocked.Increment(ref _calmPolls);

    internal void SetDetectorCpu(long ns) => Volatile.Write(ref _detectorCpuNs, ns);

    internal void CountMark(bool bySwitchEvents, long delayNs)
    {
        Interlocked.Increment(ref bySwitchEvents ? ref _markedBySwitchEvents : ref _markedByMonitor);
        Interlocked.Add(ref _markDelayNs, Math.Max(0, delayNs));
    }

    internal void UncountMark(bool bySwitchEvents, long delayNs)
    {
        Interlocked.Decrement(ref bySwitchEvents ? ref _markedBySwitchEvents : ref _markedByMonitor);
        Interlocked.Add(ref _markDelayNs, -Math.Max(0, delayNs));
    }

    internal void CountRejected() => Interlocked.Increment(ref _rejected);

    internal void CountUnmanaged(long ns)
    {
        Interlocked.Add(ref _unmanagedNs, Math.Max(0, ns));
        Interlocked.Increment(ref _unmanagedRuns);
    }

    internal void CountWorkerWithoutSwitchEvents() => Interlocked.Increment(ref _workersWithoutSwitchEvents);
}
