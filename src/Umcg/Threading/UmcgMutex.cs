using Umcg.Scheduling;

namespace Umcg.Threading;

/// <summary>
/// A worker-aware mutual-exclusion lock: a worker that finds it held parks and hands its CPU straight to the
/// next runnable worker of its server (one next_tid switch instead of worker → server → worker), and an
/// unlock makes a waiter runnable on its server.
/// </summary>
/// <remarks>
/// <para>Not recursive, and owned: only the thread that locked it may unlock it.</para>
/// <para>By default (<see cref="MutexHandOff.Fifo"/>) waiters are served first in, first out: once someone
/// waits, the lock passes directly from owner to waiter, so no newcomer can take it in between. With
/// <see cref="MutexHandOff.Barging"/> an unlock releases the lock and wakes the oldest waiter to compete for it,
/// which trades strict order for throughput under heavy contention (see there).</para>
/// <para>Threads that are not workers (the thread pool, plain threads) and workers inside a
/// <see cref="Worker.Blocking"/> region use the same lock; they wait on a monitor instead of parking.</para>
/// </remarks>
/// <example>
/// <code>
/// var mutex = new UmcgMutex();
/// using (mutex.EnterScope())
/// {
///     shared.Add(item);
/// }
/// </code>
/// </example>
public sealed class UmcgMutex
{
    // The algorithm of the mode chosen at construction, with the state it works on (FifoMutexCore.cs,
    // BargingMutexCore.cs; the bits of the state word in MutexState.cs). Never changes.
    private readonly MutexCore _core;

    /// <summary>Creates a free mutex.</summary>
    /// <param name="handOff">What an unlock does when someone waits: <see cref="MutexHandOff.Fifo"/> (the default) hands the lock to the oldest waiter; <see cref="MutexHandOff.Barging"/> releases it and wakes the oldest waiter to compete for it.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="handOff"/> is not a defined value.</exception>
    public UmcgMutex(MutexHandOff handOff = MutexHandOff.Fifo)
    {
        _core = handOff switch
        {
            MutexHandOff.Fifo => new FifoMutexCore(),
            MutexHandOff.Barging => new BargingMutexCore(),
            _ => throw new ArgumentOutOfRangeException(nameof(handOff), handOff, "Not a MutexHandOff value."),
        };
    }

    /// <summary>What an unlock does when someone waits (chosen at construction).</summary>
    public MutexHandOff HandOff => _core.HandOff;

    /// <summary>Whether some thread holds the lock (a racy snapshot).</summary>
    public bool IsHeld => _core.State.IsLocked;

    /// <summary>Whether the calling thread holds the lock.</summary>
    public bool IsHeldByCurrentThread => _core.IsHeldByCurrentThread;

    /// <summary>How many threads and workers wait for the lock now.</summary>
    internal int WaitersForTests => _core.WaiterCount;

    /// <summary>How long a waiter may wait before a <see cref="MutexHandOff.Barging"/> mutex falls back to FIFO hand-off; tests change it. A FIFO mutex has none to change.</summary>
    internal TimeSpan StarvationThreshold
    {
        get => Barging.StarvationThreshold;
        set => Barging.StarvationThreshold = value;
    }

    /// <summary>For a stall report: the state word, the queue's length and the owner (racy snapshots).</summary>
    internal string DescribeForTests() => _core.DescribeForTests();

    /// <summary>Whether the mutex is in starvation mode now (a racy snapshot; never for a FIFO mutex).</summary>
    internal bool IsStarvingForTests => _core.State.IsStarving;

    private BargingMutexCore Barging =>
        _core as BargingMutexCore ?? throw new InvalidOperationException("Only a Barging mutex has a starvation threshold.");

    /// <summary>Takes the lock if nobody holds it, without waiting.</summary>
    /// <returns>True if the caller now holds the lock.</returns>
    /// <exception cref="LockRecursionException">The caller already holds it.</exception>
    /// <remarks>With <see cref="MutexHandOff.Barging"/> this takes a free lock even while others wait for it.</remarks>
    public bool TryLock()
    {
        if (_core.TryLock())
        {
            return true;
        }

        _core.ThrowIfRecursive();
        return false;
    }

    /// <summary>Takes the lock, waiting as long as needed.</summary>
    /// <exception cref="LockRecursionException">The caller already holds it.</exception>
    public void Lock() => Lock(Deadline.None, CancellationToken.None);

    /// <summary>Takes the lock, waiting until <paramref name="cancellationToken"/> is canceled.</summary>
    /// <exception cref="OperationCanceledException">Canceled before the lock was handed to the caller.</exception>
    /// <exception cref="LockRecursionException">The caller already holds it.</exception>
    public void Lock(CancellationToken cancellationToken) => Lock(Deadline.None, cancellationToken);

    /// <summary>Takes the lock, waiting at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait; <see cref="TimeSpan.Zero"/> does not wait, <see cref="Timeout.InfiniteTimeSpan"/> waits for ever.</param>
    /// <returns>True if the caller now holds the lock, false if the timeout passed first.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A negative timeout other than infinite.</exception>
    /// <exception cref="LockRecursionException">The caller already holds it.</exception>
    public bool TryLock(TimeSpan timeout) => TryLock(timeout, CancellationToken.None);

    /// <summary>Takes the lock, waiting at most <paramref name="timeout"/> and until <paramref name="cancellationToken"/> is canceled.</summary>
    /// <param name="timeout">How long to wait; <see cref="TimeSpan.Zero"/> does not wait, <see cref="Timeout.InfiniteTimeSpan"/> waits for ever.</param>
    /// <param name="cancellationToken">Ends the wait with <see cref="OperationCanceledException"/>.</param>
    /// <returns>True if the caller now holds the lock, false if the timeout passed first.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A negative timeout other than infinite.</exception>
    /// <exception cref="OperationCanceledException">Canceled before the lock was handed to the caller.</exception>
    /// <exception cref="LockRecursionException">The caller already holds it.</exception>
    public bool TryLock(TimeSpan timeout, CancellationToken cancellationToken)
    {
        long deadline = Deadline.After(timeout);
        if (timeout == TimeSpan.Zero)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return TryLock();
        }

        return Lock(deadline, cancellationToken);
    }

    /// <summary>Takes the lock for a <c>using</c> block; disposing the scope unlocks it.</summary>
    /// <exception cref="LockRecursionException">The caller already holds it.</exception>
    public Scope EnterScope()
    {
        Lock();
        return new Scope(this);
    }

    /// <summary>
    /// Releases the lock. If workers or threads wait, the oldest is made runnable (a worker goes to its server's
    /// run queue; the caller keeps running). With <see cref="MutexHandOff.Fifo"/> it becomes the owner. With
    /// <see cref="MutexHandOff.Barging"/> the lock is released and the oldest waiter woken to compete for it,
    /// unless a waiter woken earlier has not retried yet (then nobody more is woken); in starvation mode the
    /// oldest waiter becomes the owner, as with Fifo.
    /// </summary>
    /// <exception cref="SynchronizationLockException">The caller does not hold the lock.</exception>
    public void Unlock() => _core.Unlock();

    /// <summary>Throws <see cref="SynchronizationLockException"/> unless the caller holds the lock.</summary>
    internal void ThrowIfNotOwner() => _core.ThrowIfNotOwner();

    private bool Lock(long deadlineNs, CancellationToken cancellationToken) => _core.Lock(deadlineNs, cancellationToken);

    /// <summary>A held <see cref="UmcgMutex"/>; disposing it unlocks the mutex.</summary>
    public readonly struct Scope : IDisposable, IEquatable<Scope>
    {
        private readonly UmcgMutex? _mutex;

        internal Scope(UmcgMutex mutex) => _mutex = mutex;

        /// <summary>Unlocks the mutex.</summary>
        /// <exception cref="SynchronizationLockException">The caller does not hold it (disposed twice, or on another thread).</exception>
        public void Dispose() => _mutex?.Unlock();

        /// <inheritdoc />
        public bool Equals(Scope other) => ReferenceEquals(_mutex, other._mutex);

        /// <inheritdoc />
        public override bool Equals(object? obj) => obj is Scope other && Equals(other);

        /// <inheritdoc />
        public override int GetHashCode() => _mutex?.GetHashCode() ?? 0;

        /// <summary>Equality of scopes (same mutex).</summary>
        public static bool operator ==(Scope left, Scope right) => left.Equals(right);

        /// <summary>Inequality of scopes.</summary>
        public static bool operator !=(Scope left, Scope right) => !left.Equals(right);
    }
}
