namespace Umcg.Threading;

/// <summary>
/// What <see cref="UmcgMutex.Unlock"/> does when someone waits for the lock: hand it straight to the oldest
/// waiter, or release it and let the oldest waiter compete for it with newcomers.
/// </summary>
public enum MutexHandOff
{
    /// <summary>
    /// The default, and the strict order the specification asks for: unlock hands the lock to the oldest waiter,
    /// and no newcomer can take it in between (no barging). Every contended acquisition then costs a worker
    /// switch, so a lock taken again and again around tiny critical sections forms a convoy: the lock moves
    /// only as fast as its waiters can be switched in.
    /// </summary>
    Fifo,

    /// <summary>
    /// Throughput first, in the manner of Go's <c>sync.Mutex</c>: unlock releases the lock and wakes the oldest
    /// waiter, which then competes with newcomers. A newcomer that is already running on a CPU usually wins, with
    /// no switch at all, and a worker that finds the lock held by a worker running on another server spins
    /// briefly before it parks. A woken waiter that loses goes back to the front of the queue. Once a waiter
    /// has waited longer than about a millisecond, the mutex falls back to <see cref="Fifo"/> hand-off until
    /// its queue drains, so no waiter starves.
    /// </summary>
    Barging,
}
