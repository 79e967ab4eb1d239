namespace Umcg.Collections;

/// <summary>
/// Finds the <see cref="ListLinks{T}"/> field inside a node. Implemented by an empty struct per list: a
/// value type argument, so an <see cref="IntrusiveList{T, TLinks}"/> inlined into its owner reaches the links
/// as a plain field access, with no virtual call, delegate or lookup.
/// </summary>
/// <typeparam name="T">The node type.</typeparam>
internal interface ILinksOf<T>
    where T : class
{
    /// <summary>The links of <paramref name="node"/>.</summary>
    static abstract ref ListLinks<T> Of(T node);
}
