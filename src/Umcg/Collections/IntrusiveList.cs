using System.Runtime.CompilerServices;

namespace Umcg.Collections;

/// <summary>
/// A doubly-linked FIFO threaded through its nodes' own <see cref="ListLinks{T}"/>: no allocation per node,
/// O(1) removal from anywhere. A struct kept inline in the object that owns it; that owner's identity marks
/// the nodes it holds, so a node in another list (or in none) is told apart in O(1). Not thread-safe: the
/// owner guards it.
/// </summary>
/// <typeparam name="T">The node type.</typeparam>
/// <typeparam name="TLinks">Where a node keeps its links for this list.</typeparam>
/// <remarks>
/// Every member is inlined into its owner's (non-generic) methods. Compiled there, <typeparamref name="TLinks"/>
/// resolves to a plain field access of the node, exactly as hand-written links would; compiled on its own,
/// as code shared by every reference type <typeparamref name="T"/>, it would be looked up at run time and
/// called indirectly.
/// </remarks>
internal struct IntrusiveList<T, TLinks>
    where T : class
    where TLinks : struct, ILinksOf<T>
{
    private T? _head;
    private T? _tail;
    private int _count;

    /// <summary>How many nodes are linked.</summary>
    public readonly int Count => _count;

    /// <summary>The oldest node, or null.</summary>
    public readonly T? First => _head;

    /// <summary>The newest node, or null.</summary>
    public readonly T? Last => _tail;

    /// <summary>The list (its owner) that holds <paramref name="node"/>, or null.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static object? OwnerOf(T node) => TLinks.Of(node).Owner;

    /// <summary>The node linked before <paramref name="node"/> (older), or null.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T? PrevOf(T node) => TLinks.Of(node).Prev;

    /// <summary>Appends <paramref name="node"/>, which must be in no list, to this list of <paramref name="owner"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void AddLast(T node, object owner) => Insert(node, owner, prev: _tail, next: null);

    /// <summary>Puts <paramref name="node"/>, which must be in no list, at the front of this list of <paramref name="owner"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void AddFirst(T node, object owner) => Insert(node, owner, prev: null, next: _head);

    /// <summary>Unlinks <paramref name="node"/> if it is in this list of <paramref name="owner"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Remove(T node, object owner)
    {
        ref var links = ref TLinks.Of(node);
        if (!ReferenceEquals(links.Owner, owner))
        {
            return false;
        }

        if (links.Prev is null)
        {
            _head = links.Next;
        }
        else
        {
            TLinks.Of(links.Prev).Next = links.Next;
        }

        if (links.Next is null)
        {
            _tail = links.Prev;
        }
        else
        {
            TLinks.Of(links.Next).Prev = links.Prev;
        }

        links = default;
        _count--;
        return true;
    }

    /// <summary>Unlinks and returns the oldest node, or null.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T? RemoveFirst(object owner)
    {
        var head = _head;
        if (head is not null)
        {
            Remove(head, owner);
        }

        return head;
    }

    // Links node between its neighbours-to-be (null at an end of the list).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Insert(T node, object owner, T? prev, T? next)
    {
        ref var links = ref TLinks.Of(node);
        links.Owner = owner;
        links.Prev = prev;
        links.Next = next;
        if (prev is null)
        {
            _head = node;
        }
        else
        {
            TLinks.Of(prev).Next = node;
        }

        if (next is null)
        {
            _tail = node;
        }
        else
        {
            TLinks.Of(next).Prev = node;
        }

        _count++;
    }
}
