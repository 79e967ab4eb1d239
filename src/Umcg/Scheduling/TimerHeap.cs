namespace Umcg.Scheduling;

/// <summary>
/// A server's timers: parked workers by deadline (monotonic ns). Touched only by the server's own thread,
/// so it needs no lock; the server's Wait sleeps until the nearest deadline.
/// </summary>
internal sealed class TimerHeap
{
    private readonly PriorityQueue<(WorkerThread Worker, long Seq), long> _heap = new();

    public int Count => _heap.Count;

    /// <summary>The nearest deadline, or 0 if no timer is armed.</summary>
    public long NextDeadline => _heap.TryPeek(out _, out long deadline) ? deadline : 0;

    public void Add(WorkerThread worker, long seq, long deadlineNs) => _heap.Enqueue((worker, seq), deadlineNs);

    /// <summary>Fires every timer due at <paramref name="nowNs"/>; a park that was unparked meanwhile is skipped.</summary>
    public void FireDue(long nowNs, Action<WorkerThread> timedOut)
    {
        while (_heap.TryPeek(out var entry, out long deadline) && deadline <= nowNs)
        {
            _heap.Dequeue();
            if (entry.Worker.TryTimeOut(entry.Seq))
            {
                timedOut(entry.Worker);
            }
        }
    }
}
