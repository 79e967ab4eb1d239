namespace Umcg.Threading;

/// <summary>
/// A FIFO of waiters, linked through the waiters themselves, with O(1) removal from anywhere (a waiter that
/// timed out or was canceled leaves from the middle). Not thread-safe: the primitive that owns the queue
/// guards it with its lock.
/// </summary>
internal sealed class WaitQueue
{
    private Waiter? _head;
    private Waiter? _tail;

    /// <summary>How many waiters are queued.</summary>
    public int Count { get; private set; }

    public bool IsEmpty => _head is null;

    /// <summary>Appends <paramref name="waiter"/> (the newest waiter is served last).</summary>
    public void Enqueue(Waiter waiter)
    {
        waiter.Queue = this;
        waiter.Prev = _tail;
        waiter.Next = null;
        if (_tail is null)
        {
            _head = waiter;
        }
        else
        {
            _tail.Next = waiter;
        }

        _tail = waiter;
        Count++;
    }

    /// <summary>Removes and returns the oldest waiter, or null.</summary>
    public Waiter? Dequeue()
    {
        var head = _head;
        if (head is not null)
        {
            Remove(head);
        }

        return head;
    }

    /// <summary>Removes <paramref name="waiter"/> if it is in this queue.</summary>
    public bool Remove(Waiter waiter)
    {
        if (!ReferenceEquals(waiter.Queue, this))
        {
            return false;
        }

        if (waiter.Prev is null)
        {
            _head = waiter.Next;
        }
        else
        {
            waiter.Prev.Next = waiter.Next;
        }

        if (waiter.Next is null)
        {
            _tail = waiter.Prev;
        }
        else
        {
            waiter.Next.Prev = waiter.Prev;
        }

        waiter.Queue = null;
        waiter.Next = null;
        waiter.Prev = null;
        Count--;
        return true;
    }
}
