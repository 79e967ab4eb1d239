using Umcg.Abi;

namespace Umcg.Scheduling;

// Parking: a worker that waits for something user space will signal (a mutex, a condition, a timer) gives
// its CPU back and is held aside by its server until unparked or timed out.
public sealed unsafe partial class WorkerThread
{
    // The park word: (sequence << 8) | ParkState. One word, so that a timer armed for one park can never
    // time out a later park of the same worker: its CAS expects the old sequence.
    private long _park;

    internal static class ParkState
    {
        public const int Running = 0;   // not parked
        public const int Parking = 1;   // set by the worker before it yields; its server has not seen it yet
        public const int Parked = 2;    // the server holds it aside (and may have armed a timer)
        public const int Unparked = 3;  // signalled: it goes (or went) to a run queue
        public const int TimedOut = 4;  // its deadline passed first
    }

    /// <summary>The deadline of the current park (monotonic ns), 0 for none. Written by the worker before it yields.</summary>
    internal long ParkDeadlineNs;

    internal static int StateOf(long park) => (int)(park & 0xff);

    internal long ParkWord => Volatile.Read(ref _park);

    /// <summary>
    /// Parks the calling worker (this thread) until <see cref="Unpark()"/> or the deadline: it yields its CPU,
    /// optionally straight to <paramref name="handOffTo"/> (removed from the run queue by the caller).
    /// </summary>
    /// <returns>True if unparked, false if the deadline passed.</returns>
    internal bool Park(long deadlineNs, WorkerThread? handOffTo = null)
    {
        PrepareToPark(deadlineNs);
        return CompletePark(handOffTo);
    }

    /// <summary>
    /// The first half of <see cref="Park"/>, for waits that must publish themselves (in a wait queue) between
    /// deciding to park and leaving the CPU: from this call on, an <see cref="Unpark(long)"/> with the returned
    /// sequence is kept even if it comes before the worker has yielded. Follow with <see cref="CompletePark"/>
    /// or <see cref="CancelPark"/>, with no safepoint in between.
    /// </summary>
    /// <returns>The park's sequence: the token a waker passes to <see cref="Unpark(long)"/>.</returns>
    internal long PrepareToPark(long deadlineNs)
    {
        long seq = (_park >> 8) + 1;

        // The deadline first: a server that holds us (from the Parking state below) reads it right after.
        ParkDeadlineNs = deadlineNs;

        // Publish "parking" before we leave the CPU: an Unpark from now on flips it to Unparked and the
        // server's drain (ordered after our runnable-list push) sees that and queues us at once.
        Volatile.Write(ref _park, (seq << 8) | ParkState.Parking);
        return seq;
    }

    /// <summary>Yields for a park begun by <see cref="PrepareToPark"/>. True if unparked, false if the deadline passed.</summary>
    internal bool CompletePark(WorkerThread? handOffTo = null)
    {
        Yield(handOffTo);

        // Exchange (a full fence): whatever the waker wrote before its Unpark CAS is visible to our caller.
        long outcome = Interlocked.Exchange(ref _park, (_park & ~0xffL) | ParkState.Running);
        return StateOf(outcome) == ParkState.Unparked;
    }

    /// <summary>Abandons a park begun by <see cref="PrepareToPark"/> without yielding. True if it was unparked meanwhile.</summary>
    internal bool CancelPark()
    {
        // No server has seen this park (we never yielded), so only an Unpark can have changed it.
        long outcome = Interlocked.Exchange(ref _park, (_park & ~0xffL) | ParkState.Running);
        return StateOf(outcome) == ParkState.Unparked;
    }

    /// <summary>
    /// Makes the park with sequence <paramref name="seq"/> runnable (see <see cref="PrepareToPark"/>). A late
    /// call for a park that already ended does nothing, so it can never cut a later park short.
    /// </summary>
    /// <returns>False if that park is over or was already woken.</returns>
    internal bool Unpark(long seq)
    {
        while (true)
        {
            long park = Volatile.Read(ref _park);
            if (park >> 8 != seq)
            {
                return false;
            }

            switch (StateOf(park))
            {
                case ParkState.Parking:
                    // Its server has not drained it yet; the drain will queue it.
                    if (Interlocked.CompareExchange(ref _park, (seq << 8) | ParkState.Unparked, park) == park)
                    {
                        return true;
                    }

                    break;
                case ParkState.Parked:
                    if (Interlocked.CompareExchange(ref _park, (seq << 8) | ParkState.Unparked, park) == park)
                    {
                        Server.MakeReady(this);
                        return true;
                    }

                    break;
                default:
                    return false;
            }
        }
    }

    /// <summary>Makes a parked (or parking) worker runnable. False if it was not parked or was already woken.</summary>
    internal bool Unpark()
    {
        while (true)
        {
            long park = Volatile.Read(ref _park);
            long seq = park & ~0xffL;
            switch (StateOf(park))
            {
                case ParkState.Parking:
                    // Its server has not drained it yet; the drain will queue it.
                    if (Interlocked.CompareExchange(ref _park, seq | ParkState.Unparked, park) == park)
                    {
                        return true;
                    }

                    break;
                case ParkState.Parked:
                    if (Interlocked.CompareExchange(ref _park, seq | ParkState.Unparked, park) == park)
                    {
                        Server.MakeReady(this);
                        return true;
                    }

                    break;
                default:
                    return false;
            }
        }
    }

    /// <summary>
    /// On its server, when the worker arrives from the runnable list: a parking worker is held aside (true);
    /// anything else goes to the run queue (false).
    /// </summary>
    internal bool TryHoldParked(out long seq)
    {
        long park = Volatile.Read(ref _park);
        seq = park >> 8;
        return StateOf(park) == ParkState.Parking
            && Interlocked.CompareExchange(ref _park, (park & ~0xffL) | ParkState.Parked, park) == park;
    }

    /// <summary>On its server, when the park's deadline passes: true if this park was still waiting.</summary>
    internal bool TryTimeOut(long seq)
    {
        long parked = (seq << 8) | ParkState.Parked;
        return Interlocked.CompareExchange(ref _park, (seq << 8) | ParkState.TimedOut, parked) == parked;
    }

    /// <summary>Gives the CPU back (to <paramref name="handOffTo"/> or the server) and returns when run again.</summary>
    internal void Yield(WorkerThread? handOffTo = null)
    {
        var task = Block.Task;
        OnStopping();
        while (!StateWord.PrepareWait(task))
        {
            // Not RUNNING: a detector marked us BLOCKED, or a preemption is pending. The safepoint settles it.
            // It queues us on our server's runnable list, and if we are parking the server holds us aside
            // there until the park ends: the target we took out of the run queue for a direct switch would be
            // stranded for as long, runnable but in nobody's queue. Give it back first; we go through the
            // server instead.
            if (handOffTo is not null)
            {
                Server.MakeReady(handOffTo);
                handOffTo = null;
            }

            bool blocked = StateWord.StateOf(task) == TaskState.Blocked;
            UmcgProtocolException.ThrowIfFailed(Kernel.NotifyResume(), "safepoint");
            Scheduler.Telemetry.ResumedAtSafepoint(this, wasBlocked: blocked);
        }

        Volatile.Write(ref task->NextTid, handOffTo is null ? 0u : (uint)handOffTo.Tid);
        Scheduler.Telemetry.Switching(this, handOffTo);
        var r = Kernel.Wait(0, 0);
        if (r != Errno.Ok && handOffTo is not null)
        {
            // The handoff target was not RUNNABLE after all: give it back and go through the server instead.
            Volatile.Write(ref task->NextTid, 0);
            Server.MakeReady(handOffTo);
            while (!StateWord.PrepareWait(task))
            {
                // RUNNING again after the failed Wait, so a detector may have marked us meanwhile.
                UmcgProtocolException.ThrowIfFailed(Kernel.NotifyResume(), "safepoint");
            }

            r = Kernel.Wait(0, 0);
        }

        UmcgProtocolException.ThrowIfFailed(r, "wait");
        if (handOffTo is not null)
        {
            Scheduler.Stats.CountDirectSwitch();
        }

        OnRunning();
    }
}
