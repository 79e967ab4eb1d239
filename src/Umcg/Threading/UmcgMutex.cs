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
public sealed partial class UmcgMutex : IWaitSite
{
    // _state is a set of bits. Both modes use Locked and Waiters; Barging adds Woken and Starving (see
    // UmcgMutex.Barging.cs for what they mean and who changes them).
    //
    // Fifo: Free (0), or Held (Locked), or Contended (Locked | Waiters: held, and waiters are queued, so the
    // owner must take the slow path to hand the lock over). Free → Held is a CAS by any thread; every other
    // change happens under _gate, except the owner's Held → Free CAS. Invariant under _gate: _waiters is
    // non-empty ⇔ _state == Contended.
    private const int Locked = 1;
    private const int Waiters = 2;
    private const int Free = 0;
    private const int Held = Locked;
    private const int Contended = Locked | Waiters;

    private readonly Lock _gate = new();
    private readonly MutexWaitQueue _waiters = new();
    private readonly MutexHandOff _handOff;
    private int _state;

    // The owner's managed thread id, 0 when free. Written by the acquirer right after its CAS (only it can
    // then read its own id here), or by the releaser for the waiter it hands the lock to, before waking it
    // (the wake's CAS orders the write before the new owner runs).
    private int _owner;

    /// <summary>Creates a free mutex.</summary>
    /// <param name="handOff">What an unlock does when someone waits: <see cref="MutexHandOff.Fifo"/> (the default) hands the lock to the oldest waiter; <see cref="MutexHandOff.Barging"/> releases it and wakes the oldest waiter to compete for it.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="handOff"/> is not a defined value.</exception>
    public UmcgMutex(MutexHandOff handOff = MutexHandOff.Fifo)
    {
        if (handOff is not (MutexHandOff.Fifo or MutexHandOff.Barging))
        {
            throw new ArgumentOutOfRangeException(nameof(handOff), handOff, "Not a MutexHandOff value.");
        }

        _handOff = handOff;
    }

    Lock IWaitSite.Gate => _gate;

    /// <summary>What an unlock does when someone waits (chosen at construction).</summary>
    public MutexHandOff HandOff => _handOff;

    /// <summary>Whether some thread holds the lock (a racy snapshot).</summary>
    public bool IsHeld => (Volatile.Read(ref _state) & Locked) != 0;

    /// <summary>Whether the calling thread holds the lock.</summary>
    public bool IsHeldByCurrentThread => Volatile.Read(ref _owner) == Environment.CurrentManagedThreadId;

    /// <summary>How many threads and workers wait for the lock now.</summary>
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

    /// <summary>Takes the lock if nobody holds it, without waiting.</summary>
    /// <returns>True if the caller now holds the lock.</returns>
    /// <exception cref="LockRecursionException">The caller already holds it.</exception>
    /// <remarks>With <see cref="MutexHandOff.Barging"/> this takes a free lock even while others wait for it.</remarks>
    public bool TryLock()
    {
        if (_handOff == MutexHandOff.Fifo ? TryAcquire() : TryBarge(woken: false))
        {
            return true;
        }

        ThrowIfRecursive();
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
    public void Unlock()
    {
        if (Volatile.Read(ref _owner) != Environment.CurrentManagedThreadId)
        {
            throw new SynchronizationLockException("The calling thread does not hold this mutex.");
        }

        _owner = 0;
        _ownerWorker = null;

        // Release: the CAS is a full fence, so everything written under the lock is visible before the lock
        // reads free. It fails only when another bit is set (waiters queued; in Barging mode also a waiter
        // woken or starvation mode): then the slow path hands the lock over or wakes a waiter.
        if (Interlocked.CompareExchange(ref _state, Free, Held) != Held)
        {
            if (_handOff == MutexHandOff.Fifo)
            {
                UnlockContended();
            }
            else
            {
                UnlockBarging();
            }
        }
    }

    /// <summary>Throws <see cref="SynchronizationLockException"/> unless the caller holds the lock.</summary>
    internal void ThrowIfNotOwner()
    {
        if (!IsHeldByCurrentThread)
        {
            throw new SynchronizationLockException("The calling thread does not hold this mutex.");
        }
    }

    /// <summary>Acquire: the CAS is a full fence, so the previous owner's writes are visible to the new owner.</summary>
    private bool TryAcquire()
    {
        if (Interlocked.CompareExchange(ref _state, Held, Free) == Free)
        {
            _owner = Environment.CurrentManagedThreadId;
            return true;
        }

        return false;
    }

    private void ThrowIfRecursive()
    {
        if (IsHeldByCurrentThread)
        {
            throw new LockRecursionException("The calling thread already holds this mutex; UmcgMutex is not recursive.");
        }
    }

    private bool Lock(long deadlineNs, CancellationToken cancellationToken) =>
        _handOff == MutexHandOff.Fifo ? LockFifo(deadlineNs, cancellationToken) : LockBarging(deadlineNs, cancellationToken);

    private bool LockFifo(long deadlineNs, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (TryAcquire())
        {
            return true;
        }

        ThrowIfRecursive();
        var waiter = Waiter.ForCurrentThread<Waiter>();
        lock (_gate)
        {
            while (true)
            {
                int state = Volatile.Read(ref _state);
                if (state == Free)
                {
                    if (TryAcquire())
                    {
                        return true;
                    }

                    continue;
                }

                // Held → Contended tells the owner (whose Held → Free CAS now fails) to hand over under _gate,
                // where it will find us. Contended is only left under _gate, which we hold.
                if (state == Contended || Interlocked.CompareExchange(ref _state, Contended, Held) == Held)
                {
                    break;
                }
            }

            // Arm before enqueuing: the owner may hand over and wake us the moment we release _gate.
            waiter.Arm(deadlineNs);
            _waiters.Enqueue(waiter);
        }

        // On a worker this parks and switches straight to the next runnable worker of the server.
        return WaitSite.Await(this, waiter, cancellationToken) == Waiter.Granted;
    }

    private void UnlockContended()
    {
        WakeTicket next;
        lock (_gate)
        {
            var waiter = _waiters.Dequeue();
            if (waiter is null)
            {
                // The waiters gave up (timeout, cancellation) after the owner's CAS saw Contended.
                Volatile.Write(ref _state, Free);
                return;
            }

            // Hand over: the state stays non-free, so no newcomer can take the lock before the waiter runs.
            _owner = waiter.ThreadId;
            Volatile.Write(ref _state, _waiters.IsEmpty ? Held : Contended);
            next = waiter.Answer(Waiter.Granted);
        }

        next.Wake();
    }

    bool IWaitSite.TryRemove(Waiter waiter) => _handOff == MutexHandOff.Fifo ? TryRemoveFifo(waiter) : TryRemoveBarging(waiter);

    void IWaitSite.ReturnGrant(Waiter waiter)
    {
        if (_handOff == MutexHandOff.Fifo)
        {
            Unlock();
        }
        else
        {
            ReturnGrantBarging((MutexWaiter)waiter);
        }
    }

    private bool TryRemoveFifo(Waiter waiter)
    {
        if (!_waiters.Remove(waiter))
        {
            return false;
        }

        if (_waiters.IsEmpty)
        {
            // Keep the invariant: no waiters, so the owner may release with its fast CAS again.
            Volatile.Write(ref _state, Held);
        }

        return true;
    }

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
