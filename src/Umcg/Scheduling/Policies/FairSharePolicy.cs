namespace Umcg.Scheduling.Policies;

/// <summary>
/// Weighted fair share: each worker accrues virtual runtime = CPU time × 1024 / <see cref="WorkerThread.Weight"/>,
/// and the worker with the least runs next, so CPU divides in proportion to weight. A newcomer starts at the
/// queue's minimum minus one slice, so that a long sleeper neither starves others nor is starved.
/// </summary>
/// <param name="timeSlice">The slice after which a worker ahead of the queue gives way (default 4 ms); must be positive.</param>
/// <exception cref="ArgumentOutOfRangeException">A time slice that is not positive.</exception>
public sealed class FairSharePolicy(TimeSpan? timeSlice = null) : IRunQueuePolicy, IQuietArrivals
{
    private const long NominalWeight = 1024;

    private readonly SortedSet<WorkerThread> _byVruntime = new(Comparer<WorkerThread>.Create(Compare));
    private readonly long _sliceNs = (long)(OptionsValidation.CheckedTimeSlice(timeSlice) ?? TimeSpan.FromMilliseconds(4)).TotalNanoseconds;

    // The smallest virtual runtime seen at the head of the queue: where a newcomer is placed.
    private long _minVruntime;

    /// <inheritdoc />
    public int Count => _byVruntime.Count;

    private static int Compare(WorkerThread a, WorkerThread b)
    {
        int c = a.VirtualRuntime.CompareTo(b.VirtualRuntime);
        return c != 0 ? c : a.Tid.CompareTo(b.Tid);
    }

    /// <inheritdoc />
    public void Enqueue(WorkerThread worker)
    {
        worker.VirtualRuntime = Math.Max(worker.VirtualRuntime, _minVruntime - _sliceNs);
        _byVruntime.Add(worker);
    }

    /// <inheritdoc />
    public WorkerThread? Dequeue()
    {
        var min = _byVruntime.Min;
        if (min is null)
        {
            return null;
        }

        _byVruntime.Remove(min);
        _minVruntime = Math.Max(_minVruntime, min.VirtualRuntime);
        return min;
    }

    /// <inheritdoc />
    public bool Remove(WorkerThread worker) => _byVruntime.Remove(worker);

    /// <inheritdoc />
    public WorkerThread? Steal()
    {
        foreach (var w in _byVruntime.Reverse())
        {
            if (w.CanMigrate)
            {
                _byVruntime.Remove(w);
                return w;
            }
        }

        return null;
    }

    /// <inheritdoc />
    public bool ShouldPreempt(WorkerThread running) =>
        _byVruntime.Min is { } next && running.VirtualRuntime - next.VirtualRuntime > _sliceNs;

    /// <inheritdoc />
    public TimeSpan? TimeSlice(WorkerThread running) => _byVruntime.Count > 0 ? TimeSpan.FromTicks(_sliceNs / 100) : null;

    /// <inheritdoc />
    public void Charge(WorkerThread worker, long ranNs)
    {
        // A queued worker's key must not change under the sorted set.
        bool queued = _byVruntime.Remove(worker);
        worker.VirtualRuntime += ranNs * NominalWeight / Math.Max(1, worker.Weight);
        if (queued)
        {
            _byVruntime.Add(worker);
        }
    }

    /// <inheritdoc />
    byte IQuietArrivals.RankOf(WorkerThread worker) => 0;

    /// <inheritdoc />
    // A newcomer is placed one slice behind the queue's minimum, so it preempts no sooner than the slice's end:
    // quiet while the slice is armed.
    byte IQuietArrivals.QuietMargin(bool sliceArmed) => (byte)(sliceArmed ? 2 : 0);
}
