namespace Umcg.Threading;

/// <summary>
/// A condition variable for <see cref="UmcgMutex"/>: <see cref="Wait(UmcgMutex)"/> releases the mutex and waits
/// for a notification, atomically with respect to notifiers, then takes the mutex again before it returns.
/// </summary>
/// <remarks>
/// <para>Waiters are notified first in, first out. A notification reaches only waiters already waiting (it is
/// not remembered), so wait in a loop over your predicate, as with any condition variable. No notification is
/// lost between releasing the mutex and waiting: the waiter is queued before the mutex is released.</para>
/// <para>A worker waiting here parks and gives its CPU straight to the next runnable worker of its server; a
/// thread that is not a worker waits on a monitor. Every wait re-acquires the mutex before it returns or
/// throws, even after a timeout or cancellation.</para>
/// </remarks>
/// <example>
/// <code>
/// using (mutex.EnterScope())
/// {
///     while (queue.Count == 0)
///     {
///         nonEmpty.Wait(mutex);
///     }
///
///     item = queue.Dequeue();
/// }
/// </code>
/// </example>
public sealed class UmcgCondition : IWaitSite
{
    private readonly Lock _gate = new();
    private readonly WaitQueue _waiters = new();

    Lock IWaitSite.Gate => _gate;

    /// <summary>How many threads and workers wait for a notification now.</summary>
    internal int WaitersForTests
    {
        get
        {
            lock (_gate)
            {
                return _waiters.Count;
            }
        }
    }

    /// <summary>Releases <paramref name="mutex"/>, waits for a notification, and takes the mutex again.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="mutex"/> is null.</exception>
    /// <exception cref="SynchronizationLockException">The caller does not hold <paramref name="mutex"/>.</exception>
    public void Wait(UmcgMutex mutex) => Wait(mutex, Deadline.None, CancellationToken.None);

    /// <summary>Releases <paramref name="mutex"/>, waits for a notification or cancellation, and takes the mutex again.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="mutex"/> is null.</exception>
    /// <exception cref="SynchronizationLockException">The caller does not hold <paramref name="mutex"/>.</exception>
    /// <exception cref="OperationCanceledException">Canceled before a notification (the mutex is held again).</exception>
    public void Wait(UmcgMutex mutex, CancellationToken cancellationToken) => Wait(mutex, Deadline.None, cancellationToken);

    /// <summary>Releases <paramref name="mutex"/>, waits at most <paramref name="timeout"/> for a notification, and takes the mutex again.</summary>
    /// <returns>True if notified, false if the timeout passed first.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="mutex"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A negative timeout other than infinite.</exception>
    /// <exception cref="SynchronizationLockException">The caller does not hold <paramref name="mutex"/>.</exception>
    public bool Wait(UmcgMutex mutex, TimeSpan timeout) => Wait(mutex, Deadline.After(timeout), CancellationToken.None);

    /// <summary>Releases <paramref name="mutex"/>, waits at most <paramref name="timeout"/> for a notification or cancellation, and takes the mutex again.</summary>
    /// <returns>True if notified, false if the timeout passed first.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="mutex"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A negative timeout other than infinite.</exception>
    /// <exception cref="SynchronizationLockException">The caller does not hold <paramref name="mutex"/>.</exception>
    /// <exception cref="OperationCanceledException">Canceled before a notification (the mutex is held again).</exception>
    public bool Wait(UmcgMutex mutex, TimeSpan timeout, CancellationToken cancellationToken) =>
        Wait(mutex, Deadline.After(timeout), cancellationToken);

    /// <summary>Wakes the oldest waiter, if any.</summary>
    /// <returns>True if a waiter was woken.</returns>
    public bool NotifyOne()
    {
        WakeTicket ticket;
        lock (_gate)
        {
            var waiter = _waiters.Dequeue();
            if (waiter is null)
            {
                return false;
            }

            ticket = waiter.Answer(Waiter.Granted);
        }

        ticket.Wake();
        return true;
    }

    /// <summary>Wakes every waiter, oldest first.</summary>
    /// <returns>How many waiters were woken.</returns>
    public int NotifyAll()
    {
        // Woken under the lock: once a waiter is dequeued it may run, finish and wait elsewhere (relinking
        // itself), so the list must not be walked after the lock is released. A wake takes no lock that is
        // ever held while taking ours, so this cannot deadlock.
        lock (_gate)
        {
            int count = 0;
            while (_waiters.Dequeue() is { } waiter)
            {
                waiter.Answer(Waiter.Granted).Wake();
                count++;
            }

            return count;
        }
    }

    private bool Wait(UmcgMutex mutex, long deadlineNs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(mutex);
        mutex.ThrowIfNotOwner();
        cancellationToken.ThrowIfCancellationRequested();

        var waiter = Waiter.ForCurrentThread<Waiter>();
        lock (_gate)
        {
            waiter.Arm(deadlineNs);
            _waiters.Enqueue(waiter);
        }

        // Queued before the mutex is released: a notifier that takes the mutex after us finds us waiting.
        mutex.Unlock();
        int outcome;
        try
        {
            outcome = WaitSite.Await(this, waiter, cancellationToken);
        }
        finally
        {
            // Like Monitor.Wait: the caller holds the mutex again however the wait ended.
            mutex.Lock();
        }

        return outcome == Waiter.Granted;
    }

    bool IWaitSite.TryRemove(Waiter waiter) => _waiters.Remove(waiter);

    void IWaitSite.ReturnGrant(Waiter waiter) => NotifyOne();
}
