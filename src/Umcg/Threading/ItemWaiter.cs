namespace Umcg.Threading;

/// <summary>A waiter that carries an item: a sender's item waiting for room, or the slot a receiver is handed its item in.</summary>
/// <typeparam name="T">The channel's item type.</typeparam>
internal sealed class ItemWaiter<T> : Waiter
{
    /// <summary>Guarded by the channel's lock while the waiter is queued; the waiter's own after it was answered.</summary>
    public T? Item;

    /// <summary>Whether the current wait receives (true) or sends (false).</summary>
    public bool Receiving;
}
