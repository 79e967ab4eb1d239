namespace Umcg.Threading;

/// <summary>
/// A worker-aware counting semaphore: <see cref="Wait()"/> takes a permit, waiting while there is none;
/// <see cref="Release(int)"/> gives permits back, straight to waiters first in, first out.
/// </summary>
/// <remarks>
/// A worker that waits parks and gives its CPU straight to the next runnable worker of its server; a thread
/// that is not a worker waits on a monitor. Permits are not owned: any thread may release them.
/// </remarks>
public sealed class UmcgSemaphore : IWaitSite
{
    private readonly Lock _gate = new();
    private readonly WaitQueue _waiters = new();

    // Free permits. Taken with a CAS by anyone; added only under _gate, and only while nobody waits.
    // Invariant: _count > 0 ⇒ _waiters is empty (a release hands permits to waiters before it adds any), so
    // the lock-free take can never overtake a queued waiter.
    private int _count;

    /// <summary>Creates a semaphore with <paramref name="initialCount"/> permits and room for at most <paramref name="maxCount"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative initial count, or a maximum below 1 or below the initial count.</exception>
    public UmcgSemaphore(int initialCount, int maxCount = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(initialCount);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(initialCount, maxCount);
        _count = initialCount;
        MaxCount = maxCount;
    }

    /// <summary>The most permits the semaphore holds.</summary>
    public int MaxCount { get; }

    /// <summary>Free permits now (a racy snapshot).</summary>
    public int CurrentCount => Volatile.Read(ref _count);

    Lock IWaitSite.Gate => _gate;

    /// <summary>How many threads and workers wait for a permit now.</summary>
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

    /// <summary>Takes a permit if one is free, without waiting.</summary>
    public bool TryWait()
    {
        int count = Volatile.Read(ref _count);
        while (count > 0)
        {
            // Acquire: the CAS is a full fence, ordering the releaser's writes before ours.
            int seen = Interlocked.CompareExchange(ref _count, count - 1, count);
            if (seen == count)
            {
                return true;
            }

            count = seen;
        }

        return false;
    }

    /// <summary>Takes a permit, waiting as long as needed.</summary>
    public void Wait() => Wait(Deadline.None, CancellationToken.None);

    /// <summary>Takes a permit, waiting until <paramref name="cancellationToken"/> is canceled.</summary>
    /// <exception cref="OperationCanceledException">Canceled before a permit was handed to the caller.</exception>
    public void Wait(CancellationToken cancellationToken) => Wait(Deadline.None, cancellationToken);

    /// <summary>Takes a permit, waiting at most <paramref name="timeout"/>.</summary>
    /// <returns>True if the caller got a permit, false if the timeout passed first.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A negative timeout other than infinite.</exception>
    public bool Wait(TimeSpan timeout) => Wait(timeout, CancellationToken.None);

    /// <summary>Takes a permit, waiting at most <paramref name="timeout"/> and until <paramref name="cancellationToken"/> is canceled.</summary>
    /// <returns>True if the caller got a permit, false if the timeout passed first.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A negative timeout other than infinite.</exception>
    /// <exception cref="OperationCanceledException">Canceled before a permit was handed to the caller.</exception>
    public bool Wait(TimeSpan timeout, CancellationToken cancellationToken)
    {
        long deadline = Deadline.After(timeout);
        if (timeout == TimeSpan.Zero)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return TryWait();
        }

        return Wait(deadline, cancellationToken);
    }

    /// <summary>Gives back one permit: to the oldest waiter if any, else to the count.</summary>
    /// <returns>The count before the release.</returns>
    /// <exception cref="SemaphoreFullException">The count would exceed <see cref="MaxCount"/>.</exception>
    public int Release() => Release(1);

    /// <summary>Gives back <paramref name="releaseCount"/> permits: one to each waiter, oldest first, the rest to the count.</summary>
    /// <returns>The count before the release.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="releaseCount"/> is less than 1.</exception>
    /// <exception cref="SemaphoreFullException">The count would exceed <see cref="MaxCount"/> (nothing is released).</exception>
    public int Release(int releaseCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(releaseCount, 1);
        WakeTicket last = default;
        int before;
        lock (_gate)
        {
            before = Volatile.Read(ref _count);
            int toWaiters = Math.Min(releaseCount, _waiters.Count);
            int toCount = releaseCount - toWaiters;
            if (toCount > MaxCount - before)
            {
                throw new SemaphoreFullException($"Releasing {releaseCount} permits would exceed the semaphore's maximum of {MaxCount}.");
            }

            // Waiters first, oldest first. All but the last are woken under the lock (their tickets make a
            // later wake safe, but collecting them would allocate); the last one after it.
            for (int i = 0; i < toWaiters; i++)
            {
                last.Wake();
                last = _waiters.Dequeue()!.Answer(Waiter.Granted);
            }

            if (toCount > 0)
            {
                // Release: the interlocked add is a full fence, so the releaser's writes precede the permit.
                // Only added while nobody waits (see the invariant on _count); takers race only by CAS.
                Interlocked.Add(ref _count, toCount);
            }
        }

        last.Wake();
        return before;
    }

    private bool Wait(long deadlineNs, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (TryWait())
        {
            return true;
        }

        var waiter = Waiter.ForCurrentThread<Waiter>();
        lock (_gate)
        {
            // Permits are only added under _gate: if none is free now, none appears before we are queued.
            if (TryWait())
            {
                return true;
            }

            waiter.Arm(deadlineNs);
            _waiters.Enqueue(waiter);
        }

        return WaitSite.Await(this, waiter, cancellationToken) == Waiter.Granted;
    }

    bool IWaitSite.TryRemove(Waiter waiter) => _waiters.Remove(waiter);

    void IWaitSite.ReturnGrant(Waiter waiter) => Release();
}
