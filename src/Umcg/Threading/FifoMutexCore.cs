using Umcg.Kernel;
using Umcg.Scheduling;

namespace Umcg.Threading;

/// <summary>
/// <see cref="MutexHandOff.Fifo"/>: once someone waits, an unlock hands the lock straight to the oldest waiter,
/// so no newcomer can take it in between.
/// </summary>
/// <remarks>
/// The state word is Free (0), Held (Locked) or Contended (Locked | Waiters: held, and waiters are queued, so
/// the owner must take the slow path to hand the lock over); Woken and Starving never appear.
/// <list type="bullet">
/// <item>Free → Held: a CAS by any thread. Held → Free: the owner's CAS (<see cref="MutexCore.TryReleaseUncontended"/>).</item>
/// <item>Held → Contended: a CAS by a would-be waiter under the gate. Every other change is made under the gate.</item>
/// <item>Invariant under the gate: the queue is not empty ⇔ the state is Contended.</item>
/// </list>
/// </remarks>
internal sealed class FifoMutexCore : MutexCore
{
    /// <inheritdoc />
    public override MutexHandOff HandOff => MutexHandOff.Fifo;

    /// <summary>Acquire: the CAS is a full fence, so the previous owner's writes are visible to the new owner.</summary>
    public override bool TryLock()
    {
        if (Interlocked.CompareExchange(ref StateBits, MutexState.Held, MutexState.Free) == MutexState.Free)
        {
            Owner = Environment.CurrentManagedThreadId;
            OwnerWorker = WorkerThread.Current;
            return true;
        }

        return false;
    }

    /// <inheritdoc />
    public override bool Lock(long deadlineNs, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (TryLock())
        {
            return true;
        }

        ThrowIfRecursive();
        var waiter = Waiter.ForCurrentThread<Waiter>();
        lock (Gate)
        {
            while (true)
            {
                int state = Volatile.Read(ref StateBits);
                ProtocolBug.Check(state is MutexState.Free or MutexState.Held or MutexState.Contended, "a FIFO mutex is free, held or contended");
                if (state == MutexState.Free)
                {
                    if (TryLock())
                    {
                        return true;
                    }

                    continue;
                }

                // Held → Contended tells the owner (whose Held → Free CAS now fails) to hand over under the gate,
                // where it will find us. Contended is only left under the gate, which we hold.
                if (state == MutexState.Contended
                    || Interlocked.CompareExchange(ref StateBits, MutexState.Contended, MutexState.Held) == MutexState.Held)
                {
                    break;
                }
            }

            // Arm before enqueuing: the owner may hand over and wake us the moment we release the gate.
            waiter.Arm(deadlineNs);
            Queue.Enqueue(waiter);
        }

        // On a worker this parks and switches straight to the next runnable worker of the server.
        OwnerIsAwaited();
        return WaitSite.Await(this, waiter, cancellationToken) == Waiter.Granted;
    }

    /// <inheritdoc />
    public override void Unlock()
    {
        ThrowIfNotOwner();
        if (!TryReleaseUncontended())
        {
            HandOver();
        }
    }

    /// <inheritdoc />
    public override bool TryRemove(Waiter waiter)
    {
        if (!Queue.Remove(waiter))
        {
            return false;
        }

        if (Queue.IsEmpty)
        {
            // Keep the invariant: no waiters, so the owner may release with its fast CAS again.
            Volatile.Write(ref StateBits, MutexState.Held);
        }

        return true;
    }

    /// <summary>A waiter whose worker broke after it was handed the lock gives it back.</summary>
    public override void ReturnGrant(Waiter waiter) => Unlock();

    /// <summary>The owner's slow release: the state is Contended, so hand the lock to the oldest waiter.</summary>
    private void HandOver()
    {
        AwaitedLockReleased();
        WakeTicket next;
        lock (Gate)
        {
            // The invariant under the gate; Held here means the last waiter gave up after our CAS saw Contended.
            ProtocolBug.Check(Volatile.Read(ref StateBits) == (Queue.IsEmpty ? MutexState.Held : MutexState.Contended), "a held FIFO mutex is contended exactly while waiters are queued");
            var waiter = Queue.Dequeue();
            if (waiter is null)
            {
                // The waiters gave up (timeout, cancellation) after the owner's CAS saw Contended.
                Volatile.Write(ref StateBits, MutexState.Free);
                return;
            }

            // Hand over: the state stays non-free, so no newcomer can take the lock before the waiter runs.
            Owner = waiter.ThreadId;
            OwnerWorker = waiter.Worker;
            Volatile.Write(ref StateBits, Queue.IsEmpty ? MutexState.Held : MutexState.Contended);
            next = waiter.Answer(Waiter.Granted);
        }

        next.Wake();
    }
}
