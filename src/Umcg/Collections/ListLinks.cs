namespace Umcg.Collections;

/// <summary>
/// The links a node of an <see cref="IntrusiveList{T, TLinks}"/> carries in itself: its neighbours, and the
/// object that owns the list holding it (null while the node is in no list).
/// </summary>
/// <typeparam name="T">The node type.</typeparam>
internal struct ListLinks<T>
    where T : class
{
    internal T? Prev;
    internal T? Next;
    internal object? Owner;
}
