namespace Umcg.Scheduling.Policies;

/// <summary>
/// First in, first out: workers run in the order they became runnable. With a time slice it is round robin;
/// without one (the default) a worker runs until it blocks or yields.
/// </summary>
/// <param name="timeSlice">Round-robin slice while others wait (positive), or null for none.</param>
/// <exception cref="ArgumentOutOfRangeException">A time slice that is not positive.</exception>
public sealed class FifoPolicy(TimeSpan? timeSlice = null) : IRunQueuePolicy, IQuietArrivals
{
    private readonly WorkerQueue _queue = new();
    private readonly TimeSpan? _timeSlice = OptionsValidation.CheckedTimeSlice(timeSlice);

    /// <inheritdoc />
    public int Count => _queue.Count;

    /// <inheritdoc />
    public void Enqueue(WorkerThread worker) => _queue.Enqueue(worker);

    /// <inheritdoc />
    public WorkerThread? Dequeue() => _queue.Dequeue();

    /// <inheritdoc />
    public bool Remove(WorkerThread worker) => _queue.Remove(worker);

    /// <inheritdoc />
    public WorkerThread? Steal()
    {
        var w = _queue.LastMigratable();
        if (w is not null)
        {
            _queue.Remove(w);
        }

        return w;
    }

    /// <inheritdoc />
    public bool ShouldPreempt(WorkerThread running) => false;

    /// <inheritdoc />
    public TimeSpan? TimeSlice(WorkerThread running) => _queue.Count > 0 ? _timeSlice : null;

    /// <inheritdoc />
    public void Charge(WorkerThread worker, long ranNs)
    {
    }

    /// <inheritdoc />
    byte IQuietArrivals.RankOf(WorkerThread worker) => 0;

    /// <inheritdoc />
    // Nothing preempts; an arrival only asks for round robin, which an armed slice (or no slice) already covers.
    byte IQuietArrivals.QuietMargin(bool sliceArmed) => (byte)(sliceArmed || _timeSlice is null ? 2 : 0);
}
