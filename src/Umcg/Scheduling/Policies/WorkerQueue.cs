using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Umcg.Collections;

namespace Umcg.Scheduling.Policies;

/// <summary>
/// An intrusive FIFO of workers with O(1) removal from anywhere: the building block of run-queue policies.
/// A worker is in at most one queue at a time. Not thread-safe: policies run under their server's lock.
/// </summary>
public sealed class WorkerQueue
{
    private IntrusiveList<WorkerThread, Links> _list;

    /// <summary>How many workers are queued.</summary>
    public int Count => _list.Count;

    /// <summary>The oldest worker, or null.</summary>
    public WorkerThread? Peek() => _list.First;

    /// <summary>Appends <paramref name="worker"/>.</summary>
    /// <exception cref="InvalidOperationException">The worker is already in a queue.</exception>
    public void Enqueue(WorkerThread worker)
    {
        ThrowIfQueued(worker);
        _list.AddLast(worker, this);
    }

    /// <summary>Puts <paramref name="worker"/> at the front (it runs next).</summary>
    /// <exception cref="InvalidOperationException">The worker is already in a queue.</exception>
    public void EnqueueFront(WorkerThread worker)
    {
        ThrowIfQueued(worker);
        _list.AddFirst(worker, this);
    }

    /// <summary>Removes and returns the oldest worker, or null.</summary>
    public WorkerThread? Dequeue() => _list.RemoveFirst(this);

    /// <summary>Removes <paramref name="worker"/> if it is in this queue.</summary>
    public bool Remove(WorkerThread worker)
    {
        ArgumentNullException.ThrowIfNull(worker);
        return _list.Remove(worker, this);
    }

    /// <summary>The newest worker that may move to another server (stealing takes from the cold end), or null.</summary>
    public WorkerThread? LastMigratable()
    {
        for (var w = _list.Last; w is not null; w = IntrusiveList<WorkerThread, Links>.PrevOf(w))
        {
            if (w.CanMigrate)
            {
                return w;
            }
        }

        return null;
    }

    /// <summary>Whether <paramref name="worker"/> is in some <see cref="WorkerQueue"/> now (the server's check that a worker it took is in none).</summary>
    internal static bool IsQueued(WorkerThread worker) => IntrusiveList<WorkerThread, Links>.OwnerOf(worker) is not null;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ThrowIfQueued(WorkerThread worker)
    {
        ArgumentNullException.ThrowIfNull(worker);
        if (IntrusiveList<WorkerThread, Links>.OwnerOf(worker) is not null)
        {
            ThrowQueued(worker);
        }
    }

    [DoesNotReturn]
    private static void ThrowQueued(WorkerThread worker) => throw new InvalidOperationException($"{worker} is already queued.");

    /// <summary>A worker's links for the queue that holds it.</summary>
    private struct Links : ILinksOf<WorkerThread>
    {
        public static ref ListLinks<WorkerThread> Of(WorkerThread node) => ref node.QueueLinks;
    }
}
