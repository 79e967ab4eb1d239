namespace Umcg.Threading;

/// <summary>
/// A waiter for a <see cref="UmcgMutex"/> in <see cref="MutexHandOff.Barging"/> mode, which can be woken in two
/// ways: handed the lock (starvation mode), or only woken to compete for it.
/// </summary>
internal sealed class MutexWaiter : Waiter
{
    /// <summary>
    /// Whether the wake handed the lock over (true) or only woke the waiter to try again (false). Written by the
    /// waker under the mutex's lock before <see cref="Waiter.Answer"/>, whose release store orders it before the
    /// waiter's read of the outcome.
    /// </summary>
    public bool HandedOff;

    /// <summary>
    /// When the current <c>Lock</c> call first queued (<see cref="System.Diagnostics.Stopwatch"/> ticks). Kept
    /// when a woken waiter that lost queues again, so that its whole wait counts towards starvation. Written by
    /// the waiting thread under the mutex's lock, read by unlockers under the same lock.
    /// </summary>
    public long QueuedSince;
}
