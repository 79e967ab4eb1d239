namespace Umcg.Collections;

/// <summary>
/// A queue that hands out its highest rank first and, within a rank, its oldest entry first: one
/// <see cref="LinkedList{T}"/> per rank, so adding, taking the head and removing any node are O(1) in the number of
/// entries (the head's search is over the ranks, a fixed few). Nodes are the caller's own
/// <see cref="LinkedListNode{T}"/>: a node's <see cref="LinkedListNode{T}.List"/> is non-null exactly while it is
/// queued here. Not thread-safe: the owner guards it.
/// </summary>
/// <typeparam name="T">The entry type.</typeparam>
internal sealed class RankedQueue<T>
{
    private readonly LinkedList<T>[] _ranks;
    private int _count;

    /// <param name="ranks">How many ranks, 0 (lowest) to <paramref name="ranks"/> − 1 (highest).</param>
    public RankedQueue(int ranks)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ranks);
        _ranks = new LinkedList<T>[ranks];
        for (int i = 0; i < ranks; i++)
        {
            _ranks[i] = new LinkedList<T>();
        }
    }

    /// <summary>How many entries are queued.</summary>
    public int Count => _count;

    /// <summary>The entry handed out next: the oldest of the highest rank held; null when empty.</summary>
    public LinkedListNode<T>? First
    {
        get
        {
            for (int rank = _ranks.Length - 1; rank >= 0 && _count > 0; rank--)
            {
                if (_ranks[rank].First is { } node)
                {
                    return node;
                }
            }

            return null;
        }
    }

    /// <summary>
    /// Queues <paramref name="node"/> behind every entry of its rank; <paramref name="rank"/> outside the ranks is
    /// clamped to the nearest one.
    /// </summary>
    /// <exception cref="InvalidOperationException">The node is already in a list.</exception>
    public void AddLast(LinkedListNode<T> node, int rank)
    {
        ArgumentNullException.ThrowIfNull(node);
        rank = Math.Clamp(rank, 0, _ranks.Length - 1);
        _ranks[rank].AddLast(node);
        _count++;
    }

    /// <summary>Takes the entry <see cref="First"/> names; null when empty.</summary>
    public LinkedListNode<T>? TakeFirst()
    {
        if (First is not { } node)
        {
            return null;
        }

        node.List!.Remove(node);
        _count--;
        return node;
    }

    /// <summary>Removes <paramref name="node"/> if it is queued here; false if it is in no list of this queue.</summary>
    public bool Remove(LinkedListNode<T> node)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (node.List is not { } list || Array.IndexOf(_ranks, list) < 0)
        {
            return false;
        }

        list.Remove(node);
        _count--;
        return true;
    }

    /// <summary>Takes every entry, highest rank first and oldest first within a rank, leaving the queue empty.</summary>
    public List<T> TakeAll()
    {
        var all = new List<T>(_count);
        for (int rank = _ranks.Length - 1; rank >= 0; rank--)
        {
            all.AddRange(_ranks[rank]);
            _ranks[rank].Clear();
        }

        _count = 0;
        return all;
    }
}
