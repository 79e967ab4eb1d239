using System.Diagnostics;

namespace Umcg.Threading;

/// <summary>A primitive's side of the last step of the waiter protocol (see <see cref="Waiter"/>).</summary>
internal interface IWaitSite
{
    /// <summary>The lock that guards the primitive's state and wait queues.</summary>
    Lock Gate { get; }

    /// <summary>Under <see cref="Gate"/>: removes a waiter that gives up. False if it is no longer queued (a waker answered it).</summary>
    bool TryRemove(Waiter waiter);

    /// <summary>Outside <see cref="Gate"/>: gives back what a waiter was granted when it cannot take it (its wait failed).</summary>
    void ReturnGrant(Waiter waiter);
}

/// <summary>Waiting for an armed, queued waiter: blocking, then settling timeouts and cancellation race-free.</summary>
internal static class WaitSite
{
    /// <summary>
    /// Blocks until a waker answers <paramref name="waiter"/>, its deadline passes or <paramref name="cancellationToken"/>
    /// is canceled. Call it outside the site's lock, after arming and enqueuing the waiter under it.
    /// </summary>
    /// <returns>The outcome a waker set (<see cref="Waiter.Granted"/>, <see cref="Waiter.Closed"/>), or <see cref="Waiter.Waiting"/> if the deadline passed first.</returns>
    /// <exception cref="OperationCanceledException">Canceled before any waker answered (the waiter left the queue).</exception>
    public static int Await<TSite>(TSite site, Waiter waiter, CancellationToken cancellationToken)
        where TSite : IWaitSite
    {
        // The callback only wakes; the waiter itself then leaves the queue under the lock. Registered after
        // Arm, so a token canceled already (the callback runs inline) still finds the wait to wake.
        using var registration = cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static w => ((Waiter)w!).WakeCurrent(), waiter)
            : default;

        bool woken;
        try
        {
            woken = waiter.Block();
        }
        catch
        {
            // The worker broke (the kernel half refused a transition): never leave a dead waiter queued.
            Abandon(site, waiter);
            throw;
        }

        // Volatile: after a wake through our ticket the waker's write is ordered before us by the park word's
        // CAS/exchange (or the waiter's monitor). After a timeout it may be stale; the lock below settles that.
        int outcome = Volatile.Read(ref waiter.Outcome);
        if (outcome != Waiter.Waiting)
        {
            return outcome;
        }

        bool removed;
        lock (site.Gate)
        {
            removed = site.TryRemove(waiter);
            outcome = waiter.Outcome;
        }

        if (!removed)
        {
            // A waker dequeued us first: its grant stands, even though we also timed out or were canceled.
            Debug.Assert(outcome != Waiter.Waiting, "a waiter leaves its queue only with an outcome");
            return outcome;
        }

        cancellationToken.ThrowIfCancellationRequested();
        Debug.Assert(!woken, "only a grant or a cancellation wakes a wait");
        return Waiter.Waiting;
    }

    private static void Abandon<TSite>(TSite site, Waiter waiter)
        where TSite : IWaitSite
    {
        bool removed;
        lock (site.Gate)
        {
            removed = site.TryRemove(waiter);
        }

        if (!removed && waiter.Outcome == Waiter.Granted)
        {
            site.ReturnGrant(waiter);
        }
    }
}
