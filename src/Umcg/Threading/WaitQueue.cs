using Umcg.Collections;

namespace Umcg.Threading;

/// <summary>
/// A FIFO of waiters, linked through the waiters themselves, with O(1) removal from anywhere (a waiter that
/// timed out or was canceled leaves from the middle). Not thread-safe: the primitive that owns the queue
/// guards it with its lock.
/// </summary>
internal sealed class WaitQueue
{
    private IntrusiveList<Waiter, Links> _list;

    /// <summary>How many waiters are queued.</summary>
    public int Count => _list.Count;

    public bool IsEmpty => _list.First is null;

    /// <summary>Appends <paramref name="waiter"/> (the newest waiter is served last).</summary>
    public void Enqueue(Waiter waiter) => _list.AddLast(waiter, this);

    /// <summary>Removes and returns the oldest waiter, or null.</summary>
    public Waiter? Dequeue() => _list.RemoveFirst(this);

    /// <summary>Removes <paramref name="waiter"/> if it is in this queue.</summary>
    public bool Remove(Waiter waiter) => _list.Remove(waiter, this);

    /// <summary>A waiter's links for the queue that holds it.</summary>
    private struct Links : ILinksOf<Waiter>
    {
        public static ref ListLinks<Waiter> Of(Waiter node) => ref node.QueueLinks;
    }
}
