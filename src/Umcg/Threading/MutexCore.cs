using Umcg.Scheduling;

namespace Umcg.Threading;

/// <summary>
/// The state and algorithm of one <see cref="UmcgMutex"/>, for the hand-off mode chosen at its construction:
/// <see cref="FifoMutexCore"/> or <see cref="BargingMutexCore"/>. What both modes share lives here: the state
/// word, the gate and wait queue, the owner, and the uncontended release.
/// </summary>
/// <remarks>
/// Ordering shared by both modes: every change of <see cref="StateBits"/> is an Interlocked operation (a full
/// fence), so the acquiring CAS orders the previous owner's writes (before its release CAS, or before a hand-off
/// under the gate) before the new owner's critical section.
/// </remarks>
internal abstract class MutexCore : IWaitSite
{
    /// <summary>The state word (see <see cref="MutexState"/>); each mode's core says who changes which bit.</summary>
    protected int StateBits;

    /// <summary>
    /// The owner's managed thread id, 0 when free. Written by the acquirer right after its CAS (only it can then
    /// read its own id here), or by the releaser for the waiter it hands the lock to, before waking it (the
    /// wake's CAS orders the write before the new owner runs).
    /// </summary>
    protected int Owner;

    /// <summary>
    /// The owner's worker, or null for a plain thread: written beside <see cref="Owner"/>, cleared by the release. Read
    /// without synchronisation, so it may be stale: a hint for spinners (does the owner run on another server?) and
    /// for a waiter's boost of a demoted owner (<see cref="OwnerIsAwaited"/>), where a stale one costs a wasted look.
    /// </summary>
    protected WorkerThread? OwnerWorker;

    /// <summary>Guards the wait queue and the bits each mode changes only under it.</summary>
    protected Lock Gate { get; } = new();

    /// <summary>The waiters, in the order they are served.</summary>
    protected MutexWaitQueue Queue { get; } = new();

    Lock IWaitSite.Gate => Gate;

    /// <summary>Which mode this core implements.</summary>
    public abstract MutexHandOff HandOff { get; }

    /// <summary>The state word now (a racy snapshot).</summary>
    public MutexState State => new(Volatile.Read(ref StateBits));

    /// <summary>Whether the calling thread holds the lock.</summary>
    public bool IsHeldByCurrentThread => Volatile.Read(ref Owner) == Environment.CurrentManagedThreadId;

    /// <summary>For a stall report: the state word, the queue's length and the owner (racy snapshots).</summary>
    public string DescribeForTests() =>
        $"mutex {HandOff} state={State} waiters={WaiterCount} owner={Volatile.Read(ref Owner)} ownerWorker={Volatile.Read(ref OwnerWorker)?.Tid}";

    /// <summary>How many threads and workers wait for the lock now.</summary>
    public int WaiterCount
    {
        get
        {
            lock (Gate)
            {
                return Queue.Count;
            }
        }
    }

    /// <summary>Takes the lock without waiting if this mode allows it now.</summary>
    public abstract bool TryLock();

    /// <summary>Takes the lock, waiting until <paramref name="deadlineNs"/> at most; the caller has checked nothing.</summary>
    public abstract bool Lock(long deadlineNs, CancellationToken cancellationToken);

    /// <summary>Releases the lock held by the caller; if someone waits, this mode's slow path hands over or wakes.</summary>
    public abstract void Unlock();

    /// <inheritdoc />
    public abstract bool TryRemove(Waiter waiter);

    /// <inheritdoc />
    public abstract void ReturnGrant(Waiter waiter);

    /// <summary>Throws <see cref="SynchronizationLockException"/> unless the caller holds the lock.</summary>
    public void ThrowIfNotOwner()
    {
        if (!IsHeldByCurrentThread)
        {
            throw new SynchronizationLockException("The calling thread does not hold this mutex.");
        }
    }

    /// <summary>Throws <see cref="LockRecursionException"/> if the caller holds the lock.</summary>
    public void ThrowIfRecursive()
    {
        if (IsHeldByCurrentThread)
        {
            throw new LockRecursionException("The calling thread already holds this mutex; UmcgMutex is not recursive.");
        }
    }

    /// <summary>
    /// A waiter is about to park for the lock: an owner its server demoted runs in the foreground again, and is not
    /// demoted while waiters wait for it (it would hold them up at a lowered priority: an inversion). Docs: preemption.md.
    /// </summary>
    protected void OwnerIsAwaited() => Volatile.Read(ref OwnerWorker)?.OnLockAwaited();

    /// <summary>The owner releases the lock to its waiters: it is no longer awaited through this lock.</summary>
    protected static void AwaitedLockReleased() => WorkerThread.Current?.OnAwaitedLockReleased();

    /// <summary>
    /// The first step of every unlock, once the caller is known to own the lock: its id is cleared and the
    /// uncontended release tried. True if that was all (Held → Free). False when another bit is set (waiters
    /// queued; in Barging mode also a waiter woken, or starvation mode): the mode's slow path then finishes.
    /// </summary>
    /// <remarks>The CAS is a full fence: everything written under the lock is visible before the lock reads free.</remarks>
    protected bool TryReleaseUncontended()
    {
        Owner = 0;
        OwnerWorker = null;
        return Interlocked.CompareExchange(ref StateBits, MutexState.Free, MutexState.Held) == MutexState.Held;
    }
}
