namespace Umcg.Threading;

/// <summary>
/// A mutex's waiters in the order they are served: waiters that were woken to compete and lost (see
/// <see cref="MutexHandOff.Barging"/>) come back ahead of everyone who has not yet been woken, since they have
/// waited longest; each part is first in, first out. Not thread-safe: the mutex guards it with its lock.
/// </summary>
internal sealed class MutexWaitQueue
{
    private readonly WaitQueue _returning = new();
    private readonly WaitQueue _arrived = new();

    /// <summary>How many waiters are queued.</summary>
    public int Count => _returning.Count + _arrived.Count;

    /// <summary>Whether nobody is queued.</summary>
    public bool IsEmpty => _returning.IsEmpty && _arrived.IsEmpty;

    /// <summary>Appends a newcomer (served after everyone queued now).</summary>
    public void Enqueue(Waiter waiter) => _arrived.Enqueue(waiter);

    /// <summary>Queues a woken waiter that lost the race for the lock ahead of every newcomer.</summary>
    public void EnqueueReturning(Waiter waiter) => _returning.Enqueue(waiter);

    /// <summary>Removes and returns the waiter to serve next, or null.</summary>
    public Waiter? Dequeue() => _returning.Dequeue() ?? _arrived.Dequeue();

    /// <summary>Removes <paramref name="waiter"/> if it is queued here.</summary>
    public bool Remove(Waiter waiter) => _returning.Remove(waiter) || _arrived.Remove(waiter);
}
