using System.Diagnostics;
using Umcg.Collections;
using Umcg.Scheduling;

namespace Umcg.Threading;

/// <summary>
/// A thread's place in a wait queue, for one wait at a time (each thread reuses its own, see
/// <see cref="ForCurrentThread{TWaiter}"/>). A worker waits by parking on its server: its CPU goes to another
/// worker and its deadline to the server's timer heap. Any other thread — and a worker inside a blocking
/// region, which holds no CPU of its server — waits on the waiter's monitor.
/// </summary>
/// <remarks>
/// The protocol every primitive follows (see <see cref="WaitSite"/> for step 4):
/// <list type="number">
/// <item>Under the primitive's lock: <see cref="Arm"/>, then enqueue. From Arm on, a wake is never lost,
/// even one that comes before the waiter has left its CPU (the worker's park is already "Parking").</item>
/// <item>Outside the lock: <see cref="Block"/>.</item>
/// <item>A waker, under the primitive's lock: dequeue, then <see cref="Answer"/> (sets the outcome, returns a
/// ticket); outside the lock: <see cref="WakeTicket.Wake"/>.</item>
/// <item>Back from Block with no outcome (timeout or cancellation): under the primitive's lock, a waiter still
/// queued removes itself; one no longer queued was granted in the meantime and takes the grant.</item>
/// </list>
/// Every wake carries the token of the wait it is for, so a late wake (after a timeout, or meant for an earlier
/// wait of the same thread) never reaches a later wait.
/// </remarks>
internal class Waiter
{
    /// <summary><see cref="Outcome"/>: nobody has answered the wait yet.</summary>
    public const int Waiting = 0;

    /// <summary><see cref="Outcome"/>: the waiter got what it waited for (the lock, a permit, a notification, an item, room).</summary>
    public const int Granted = 1;

    /// <summary><see cref="Outcome"/>: the channel was completed while the waiter waited.</summary>
    public const int Closed = 2;

    // Thread mode: the monitor the thread waits on, the number of its current wait and whether that wait
    // was signalled. _generation and _signaled are guarded by _gate.
    private readonly object _gate = new();
    private long _generation;
    private bool _signaled;

    // The current wait, written by the owning thread in Arm, before the waiter is published in a queue under
    // the primitive's lock (which orders these writes before any waker's read of them).
    private WorkerThread? _worker; // null: thread mode
    private long _token;           // the worker's park sequence, or _generation
    private long _deadlineNs;

    /// <summary>How the wait ended; written by the waker under the primitive's lock before it wakes the waiter.</summary>
    internal int Outcome;

    // A worker this thread made runnable and wants to run next when this thread waits (a hint: it is only
    // taken if it still waits in the run queue of this thread's server).
    [ThreadStatic]
    private static WorkerThread? t_runNext;

    // Links of the WaitQueue that holds the waiter; guarded by the lock of the primitive that owns the queue.
    internal ListLinks<Waiter> QueueLinks;

    /// <summary>The managed thread id of the thread this waiter belongs to (a mutex's owner after a hand-over).</summary>
    public int ThreadId { get; } = Environment.CurrentManagedThreadId;

    /// <summary>Whether the current wait parks a worker (false: a monitor wait).</summary>
    public bool IsWorker => _worker is not null;

    /// <summary>The worker of the current wait, or null in thread mode.</summary>
    public WorkerThread? Worker => _worker;

    /// <summary>How to wake the current wait (wakers use <see cref="Answer"/>).</summary>
    private WakeTicket Ticket => new(this, _worker, _token);

    /// <summary>
    /// The waker's step, under the primitive's lock and right after dequeuing the waiter: sets the outcome and
    /// returns the ticket to wake it with, once the lock is released.
    /// </summary>
    public WakeTicket Answer(int outcome)
    {
        // Ticket first, then the outcome with release semantics: a waiter that timed out may see the outcome
        // without taking the lock and go on to arm its next wait, which must not change the ticket we hold.
        var ticket = Ticket;
        Volatile.Write(ref Outcome, outcome);
        return ticket;
    }

    /// <summary>The calling thread's waiter of type <typeparamref name="TWaiter"/>.</summary>
    public static TWaiter ForCurrentThread<TWaiter>()
        where TWaiter : Waiter, new() => Cache<TWaiter>.Instance ??= new TWaiter();

    /// <summary>
    /// Starts a wait that ends by <paramref name="deadlineNs"/> (<see cref="Deadline.None"/>: never). Call it under
    /// the primitive's lock, before the waiter is enqueued: from here on a wake is kept.
    /// </summary>
    public void Arm(long deadlineNs)
    {
        Debug.Assert(QueueLinks.Owner is null, "a waiter is armed only when it is in no queue");
        Outcome = Waiting;
        _deadlineNs = deadlineNs;
        var w = Scheduling.Worker.Active();
        if (w is not null && w.BlockingDepth == 0)
        {
            _worker = w;
            _token = w.PrepareToPark(deadlineNs);
        }
        else
        {
            _worker = null;
            lock (_gate)
            {
                _token = ++_generation;
                _signaled = false;
            }
        }
    }

    /// <summary>
    /// Waits until woken (true) or until the deadline (false). A worker parks and hands its CPU straight to the
    /// worker it asked to run next, or to its policy's successor (next_tid), instead of going through the server.
    /// </summary>
    public bool Block()
    {
        if (_worker is { } w)
        {
            if (w.ParkWord.State == WorkerThread.ParkState.Unparked)
            {
                // Woken before we left the CPU (a hand-over raced our enqueue): no need to yield at all.
                return w.CancelPark();
            }

            return w.CompletePark(NextToRun(w));
        }

        lock (_gate)
        {
            while (!_signaled)
            {
                if (_deadlineNs == Deadline.None)
                {
                    Monitor.Wait(_gate);
                    continue;
                }

                int ms = Deadline.MillisecondsLeft(_deadlineNs);
                if (ms == 0)
                {
                    return false;
                }

                Monitor.Wait(_gate, ms);
            }

            return true;
        }
    }

    /// <summary>
    /// Asks that <paramref name="readied"/>, just made runnable by the calling worker, get the caller's CPU the
    /// next time the caller waits (see <see cref="ReceiverHandOff.RunNext"/>).
    /// </summary>
    public static void RunNextOnMyServer(WorkerThread readied) => t_runNext = readied;

    /// <summary>
    /// Whom a worker that parks hands its CPU to: the worker it asked to run next if that one still waits in its
    /// run queue, else (null) the successor its policy picks as the park yields (see Server.Handoff.cs).
    /// </summary>
    private static WorkerThread? NextToRun(WorkerThread self)
    {
        var preferred = t_runNext;
        t_runNext = null;
        return preferred is not null && ReferenceEquals(preferred.Server, self.Server) && self.Server.TryTakeForSwitch(preferred)
            ? preferred
            : null;
    }

    /// <summary>Wakes the current wait, whatever it waits for: the cancellation callback.</summary>
    public void WakeCurrent() => Ticket.Wake();

    /// <summary>Thread mode: ends wait number <paramref name="generation"/> if it is still the current one.</summary>
    internal void Signal(long generation)
    {
        lock (_gate)
        {
            if (_generation == generation && !_signaled)
            {
                _signaled = true;
                Monitor.Pulse(_gate);
            }
        }
    }

    private static class Cache<TWaiter>
        where TWaiter : Waiter
    {
        [ThreadStatic]
        internal static TWaiter? Instance;
    }
}
