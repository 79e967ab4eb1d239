using Umcg.Scheduling.Policies;

namespace Umcg.Cli.Systems;

/// <summary>
/// <see cref="PriorityPolicy"/> without its round robin: the same order (highest priority first, FIFO within a
/// level) and the same preemption of a lower priority by a higher one, but no time slice, so equal priorities
/// run until they block or finish.
/// </summary>
/// <remarks>
/// Why: the server loop sleeps until the running worker's slice end, computed from the start time the worker
/// writes when it begins to run. Until the picked worker has been scheduled by the OS (or once its slice has
/// ended and a preemption is pending) that deadline is in the past, so the server's Wait returns at once and
/// the loop spins — on the CPU the worker it waits for is pinned to. On a quiet machine the spin is short; on
/// a loaded one it feeds itself: the colocation workload measured 1.3 million timer wakes in 60 s, with requests
/// waiting tens of seconds, with PriorityPolicy's 4 ms, 50 ms and 1 s slices alike.
/// </remarks>
internal sealed class StrictPriorityPolicy : IRunQueuePolicy
{
    private readonly PriorityPolicy _inner = new();

    public int Count => _inner.Count;

    public void Enqueue(WorkerThread worker) => _inner.Enqueue(worker);

    public WorkerThread? Dequeue() => _inner.Dequeue();

    public bool Remove(WorkerThread worker) => _inner.Remove(worker);

    public WorkerThread? Steal() => _inner.Steal();

    public bool ShouldPreempt(WorkerThread running) => _inner.ShouldPreempt(running);

    public TimeSpan? TimeSlice(WorkerThread running) => null;

    public void Charge(WorkerThread worker, long ranNs) => _inner.Charge(worker, ranNs);
}
