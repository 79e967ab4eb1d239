namespace Umcg.Scheduling.Policies;

/// <summary>
/// An intrusive FIFO of workers with O(1) removal from anywhere: the building block of run-queue policies.
/// A worker is in at most one queue at a time. Not thread-safe: policies run under their server's lock.
/// </summary>
public sealed class WorkerQueue
{
    private WorkerThread? _head;
    private WorkerThread? _tail;

    /// <summary>How many workers are queued.</summary>
    public int Count { get; private set; }

    /// <summary>The oldest worker, or null.</summary>
    public WorkerThread? Peek() => _head;

    /// <summary>Appends <paramref name="worker"/>.</summary>
    /// <exception cref="InvalidOperationException">The worker is already in a queue.</exception>
    public void Enqueue(WorkerThread worker)
    {
        ArgumentNullException.ThrowIfNull(worker);
        if (worker.Queue is not null)
        {
            throw new InvalidOperationException($"{worker} is already queued.");
        }

        worker.Queue = this;
        worker.QueuePrev = _tail;
        worker.QueueNext = null;
        if (_tail is null)
        {
            _head = worker;
        }
        else
        {
            _tail.QueueNext = worker;
        }

        _tail = worker;
        Count++;
    }

    /// <summary>Puts <paramref name="worker"/> at the front (it runs next).</summary>
    public void EnqueueFront(WorkerThread worker)
    {
        ArgumentNullException.ThrowIfNull(worker);
        if (_head is null)
        {
            Enqueue(worker);
            return;
        }

        if (worker.Queue is not null)
        {
            throw new InvalidOperationException($"{worker} is already queued.");
        }

        worker.Queue = this;
        worker.QueuePrev = null;
        worker.QueueNext = _head;
        _head.QueuePrev = worker;
        _head = worker;
        Count++;
    }

    /// <summary>Removes and returns the oldest worker, or null.</summary>
    public WorkerThread? Dequeue()
    {
        var head = _head;
        if (head is not null)
        {
            Remove(head);
        }

        return head;
    }

    /// <summary>Removes <paramref name="worker"/> if it is in this queue.</summary>
    public bool Remove(WorkerThread worker)
    {
        ArgumentNullException.ThrowIfNull(worker);
        if (!ReferenceEquals(worker.Queue, this))
        {
            return false;
        }

        if (worker.QueuePrev is null)
        {
            _head = worker.QueueNext;
        }
        else
        {
            worker.QueuePrev.QueueNext = worker.QueueNext;
        }

        if (worker.QueueNext is null)
        {
            _tail = worker.QueuePrev;
        }
        else
        {
            worker.QueueNext.QueuePrev = worker.QueuePrev;
        }

        worker.QueuePrev = null;
        worker.QueueNext = null;
        worker.Queue = null;
        Count--;
        return true;
    }

    /// <summary>The newest worker that may move to another server (stealing takes from the cold end), or null.</summary>
    public WorkerThread? LastMigratable()
    {
        for (var w = _tail; w is not null; w = w.QueuePrev)
        {
            if (w.CanMigrate)
            {
                return w;
            }
        }

        return null;
    }
}
