using Umcg.Abi;
using Umcg.Kernel;

namespace Umcg.Scheduling;

// Parking: a worker that waits for something user space will signal (a mutex, a condition, a timer) gives
// its CPU back and is held aside by its server until unparked or timed out.
//
// A worker's wait has three levels, each with its own word and its own writers:
//
//   level                 word (owner file)                     states
//   1 the wait site       Waiter.Outcome (Threading/Waiter.cs)  Waiting → Granted | Closed, or left Waiting (timeout, cancel)
//   2 the park            _park, a ParkWord (this file)         Running → Parking → Parked → Unparked | TimedOut → Running
//   3 the kernel half     the state word (Kernel/UmcgKernel.cs) RUNNING → RUNNABLE|COND_WAIT → (Wait) RUNNABLE → RUNNING
//
//   1  Waiting ──────────────────────────────────────────────► Granted | Closed (Answer, then WakeTicket.Wake)
//   2  Running ─P1─► Parking ─P3 (server drain)─► Parked ─P4 (Unpark)─► Unparked ─┐
//                       └──────────P2 (Unpark before the drain)───────► Unparked ─┼─P6─► Running
//                                                 Parked ─P5 (timer)──► TimedOut ─┘
//   3  RUNNING ─PrepareWait─► RUNNABLE|COND_WAIT ─Wait (K2)─► RUNNABLE, asleep ─K6 (server starts it)─► RUNNING
//
// In time: Waiter.Arm (1 Waiting, 2 P1) → Yield (3 RUNNING → RUNNABLE, Wait) → the server's drain (2 P3) → a
// waker answers (1 Granted) and wakes the ticket (2 P4: into the server's run queue) → the server picks it
// (3 K6) → CompletePark (2 P6) → the wait site reads the outcome (1). A timeout takes P5 instead of P4, and the
// wait site then settles the outcome under its lock (Threading/WaitSite.cs).
//
// The park word's edges, and who takes each (numbered as the steps of a park):
//   P1 Running  → Parking   the worker, in PrepareToPark (a new sequence), before it publishes itself in a queue
//   P2 Parking  → Unparked  a waker (Unpark with this sequence) before the server saw the park: the drain queues it
//   P3 Parking  → Parked    the server's drain (TryHoldParked), after the worker is off its CPU; a deadline arms a timer
//   P4 Parked   → Unparked  a waker (Unpark with this sequence), which then makes it ready on its server
//   P5 Parked   → TimedOut  the server's timer (TryTimeOut with this sequence), which then queues it
//   P6 any      → Running   the worker, once run again (CompletePark) or when it gives up before yielding (CancelPark)
// Invariants: only P1 changes the sequence; every other CAS expects the sequence it was given, so a late wake or
// timer never ends a later park (they fail and do nothing); Parked is held only while the worker is off its CPU;
// exactly one of P2/P4/P5 ends a park, since each is a CAS from Parking or Parked.
public sealed unsafe partial class WorkerThread
{
    // The park word, always read and written as a ParkWord (see the table above).
    private long _park;

    /// <summary>The states of a park (see the head of this file for the edges).</summary>
    internal static class ParkState
    {
        public const int Running = 0;   // not parked
        public const int Parking = 1;   // set by the worker before it yields; its server has not seen it yet
        public const int Parked = 2;    // the server holds it aside (and may have armed a timer)
        public const int Unparked = 3;  // signalled: it goes (or went) to a run queue
        public const int TimedOut = 4;  // its deadline passed first
        public const int Last = TimedOut;
    }

    /// <summary>The deadline of the current park (monotonic ns), 0 for none. Written by the worker before it yields.</summary>
    internal long ParkDeadlineNs;

    /// <summary>The current park word (a snapshot).</summary>
    internal ParkWord ParkWord => new(Volatile.Read(ref _park));

    /// <summary>The state of <paramref name="park"/>.</summary>
    internal static int StateOf(ParkWord park) => park.State;

    /// <summary>Parks the calling worker until unparked or the deadline (steps P1 and P6, with no wait site).</summary>
    /// <returns>True if unparked, false if the deadline passed.</returns>
    internal bool Park(long deadlineNs, WorkerThread? switchTo = null)
    {
        PrepareToPark(deadlineNs);
        return CompletePark(switchTo);
    }

    /// <summary>
    /// Step P1: from this call on, an <see cref="Unpark(long)"/> with the returned sequence is kept even if it
    /// comes before the worker has yielded. Follow with <see cref="CompletePark"/> or <see cref="CancelPark"/>,
    /// with no safepoint in between.
    /// </summary>
    /// <returns>The park's sequence: the token a waker passes to <see cref="Unpark(long)"/>.</returns>
    internal long PrepareToPark(long deadlineNs)
    {
        var parking = new ParkWord(_park).Begin(ParkState.Parking);

        // The deadline first: a server that holds us (from the Parking state below) reads it right after.
        ParkDeadlineNs = deadlineNs;

        // Publish "parking" before we leave the CPU: an Unpark from now on flips it to Unparked and the
        // server's drain (ordered after our runnable-list push) sees that and queues us at once.
        Volatile.Write(ref _park, parking.Raw);
        return parking.Sequence;
    }

    /// <summary>Yields for a park begun by <see cref="PrepareToPark"/>, then step P6. True if unparked, false if the deadline passed.</summary>
    internal bool CompletePark(WorkerThread? switchTo = null)
    {
        Yield(switchTo, parking: true);
        return EndPark();
    }

    /// <summary>Step P6 without yielding, for a park begun by <see cref="PrepareToPark"/>. True if it was unparked meanwhile.</summary>
    internal bool CancelPark() => EndPark();

    /// <summary>
    /// Step P2 or P4 for park <paramref name="seq"/>. A late call for a park that already ended does nothing,
    /// so it can never cut a later park short.
    /// </summary>
    /// <returns>False if that park is over or was already woken.</returns>
    internal bool Unpark(long seq)
    {
        while (true)
        {
            var park = ParkWord;
            if (park.Sequence != seq || park.State is not (ParkState.Parking or ParkState.Parked))
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _park, park.With(ParkState.Unparked).Raw, park.Raw) == park.Raw)
            {
                // Parking: its server has not drained it yet; the drain will queue it (P2). Parked: held aside, so
                // it is ours to make ready (P4).
                if (park.State == ParkState.Parked)
                {
                    Server.MakeReady(this);
                }

                return true;
            }
        }
    }

    /// <summary>
    /// Step P3, on its server, when the worker arrives from the runnable list: a parking worker is held aside
    /// (true); anything else goes to the run queue (false).
    /// </summary>
    internal bool TryHoldParked(out long seq)
    {
        var park = ParkWord;
        seq = park.Sequence;
        return park.State == ParkState.Parking
            && Interlocked.CompareExchange(ref _park, park.With(ParkState.Parked).Raw, park.Raw) == park.Raw;
    }

    /// <summary>Step P5, on its server, when the park's deadline passes: true if park <paramref name="seq"/> was still held.</summary>
    internal bool TryTimeOut(long seq)
    {
        long parked = ParkWord.Of(seq, ParkState.Parked).Raw;
        return Interlocked.CompareExchange(ref _park, ParkWord.Of(seq, ParkState.TimedOut).Raw, parked) == parked;
    }

    /// <summary>Step P6: the park is over. True if it ended by an unpark.</summary>
    private bool EndPark()
    {
        // Only the worker changes the sequence, so reading it plainly is safe. Exchange (a full fence): whatever
        // the waker wrote before its Unpark CAS is visible to our caller. Without a yield (CancelPark) no server
        // has seen this park, so only an Unpark can have changed it.
        var outcome = new ParkWord(Interlocked.Exchange(ref _park, new ParkWord(_park).With(ParkState.Running).Raw));
        return outcome.State == ParkState.Unparked;
    }

    /// <summary>
    /// Gives the CPU up and returns when run again: to <paramref name="switchTo"/> (a target the caller took out of
    /// the run queue), else to the successor the policy picks (the direct successor, H1–H4 in Server.Handoff.cs),
    /// else to the server. A yield (not <paramref name="parking"/>) that the policy answers with the caller itself
    /// keeps the CPU and is only a safepoint.
    /// </summary>
    /// <param name="switchTo">A target taken out of the run queue for a named switch, or null: the policy's pick.</param>
    /// <param name="parking">The caller parks (it is held aside, not queued) instead of staying runnable.</param>
    /// <param name="givingWay">
    /// The server asked the caller to give way (TF_PREEMPT, seen at a safepoint): if the policy answers with the caller
    /// itself, nothing is done and false returned, so that the caller takes the server's path (K5) and the server decides.
    /// </param>
    /// <returns>False only for <paramref name="givingWay"/> when the caller kept the CPU; true once it ran again.</returns>
    internal bool Yield(WorkerThread? switchTo = null, bool parking = false, bool givingWay = false)
    {
        var task = Block.Task;
        bool picked = false;

        // B2: whoever wakes us next sleeps right after; let the wake preempt it (WorkerThread.OsClass.cs). A give-way
        // chooses once it knows its successor (B2g, below).
        if (!givingWay)
        {
            RunAsNormalForWait();
        }

        // The run so far is charged first: a yielder competes with the queue in H2 by what it has run.
        OnStopping();
        if (switchTo is null)
        {
            var successor = Server.TakeSuccessor(this, yielding: !parking);

            // H3 before the switch: we sleep inside it.
            if (successor.WakeServer)
            {
                Server.Wake();
            }

            if (successor.KeepRunning)
            {
                if (givingWay)
                {
                    RunAsNormalForWait(); // B2: the server's path (K5), and the server sleeps right after it wakes us
                    return false;
                }

                Worker.Safepoint();
                return true;
            }

            switchTo = successor.Next;
            picked = switchTo is not null;
        }

        if (givingWay)
        {
            // B2g: a successor that outranks us wakes us as it stops, with its own way to that stop still ahead. Any
            // other waker (an equal rank at its own give-way, the server) sleeps right after: B2. Queued already, we
            // may be woken before the class changes: that costs a preemption, never a wake.
            WaitAfterGivingWay(outranked: switchTo is not null && Server.RankOf(switchTo) > Server.RankOf(this));
        }

        while (!StateWord.PrepareWait(task))
        {
            // Not RUNNING: a detector marked us BLOCKED, or a preemption is pending. The safepoint settles it.
            // It queues us on our server's runnable list, and if we are parking the server holds us aside
            // there until the park ends: the target we took out of the run queue for a direct switch would be
            // stranded for as long, runnable but in nobody's queue. Give it back first; we go through the
            // server instead.
            if (switchTo is not null)
            {
                Server.MakeReady(switchTo);
                switchTo = null;
            }

            bool blocked = StateWord.StateOf(task) == TaskState.Blocked;
            UmcgProtocolException.ThrowIfFailed(Kernel.NotifyResume(), "safepoint");
            NoteDirectStart(); // its unblock may have claimed an open server
            Scheduler.Telemetry.ResumedAtSafepoint(this, wasBlocked: blocked);
        }

        Volatile.Write(ref task->NextTid, switchTo is null ? 0u : (uint)switchTo.Tid);
        Scheduler.Telemetry.Switching(this, switchTo);
        var r = Kernel.Wait(0, 0);
        if (r != Errno.Ok && switchTo is not null)
        {
            // The handoff target was not RUNNABLE after all: give it back and go through the server instead.
            Volatile.Write(ref task->NextTid, 0);
            Server.MakeReady(switchTo);
            switchTo = null;
            while (!StateWord.PrepareWait(task))
            {
                // RUNNING again after the failed Wait, so a detector may have marked us meanwhile.
                UmcgProtocolException.ThrowIfFailed(Kernel.NotifyResume(), "safepoint");
                NoteDirectStart();
            }

            r = Kernel.Wait(0, 0);
        }

        UmcgProtocolException.ThrowIfFailed(r, "wait");
        if (switchTo is not null && picked)
        {
            Scheduler.Stats.CountSuccessorSwitch();
        }
        else if (switchTo is not null)
        {
            Scheduler.Stats.CountDirectSwitch();
        }

        OnRunning();
        return true;
    }
}

/// <summary>
/// A worker's park word, <c>(sequence &lt;&lt; 8) | state</c>: which park this is and where it stands
/// (<see cref="WorkerThread.ParkState"/>). One 64-bit word, so that a CAS on it checks both at once: a timer armed
/// for one park, or a late unpark, expects that park's sequence and can never end a later one.
/// </summary>
/// <remarks>
/// The word only moves along the edges in the head of this file. <see cref="Begin"/> and
/// <see cref="With"/> are the only ways to build one, and they check their ranges: only the worker and its
/// server write the word, so a state or sequence out of range is a bug. 2^55 parks of one worker would
/// overflow the sequence, which no process lives to see.
/// </remarks>
internal readonly struct ParkWord : IEquatable<ParkWord>
{
    private const int StateBits = 8;
    private const long StateMask = (1L << StateBits) - 1;
    private const long MaxSequence = long.MaxValue >> StateBits;

    /// <summary>The word as stored.</summary>
    public readonly long Raw;

    /// <summary>Takes a stored word apart.</summary>
    public ParkWord(long raw) => Raw = raw;

    /// <summary>Where the park stands: one of <see cref="WorkerThread.ParkState"/>.</summary>
    public int State => (int)(Raw & StateMask);

    /// <summary>Which park this is: counts the worker's parks, from 0 before the first.</summary>
    public long Sequence => Raw >> StateBits;

    /// <summary>The next park of the worker, in <paramref name="state"/>.</summary>
    public ParkWord Begin(int state) => Of(Sequence + 1, state);

    /// <summary>The same park in <paramref name="state"/>.</summary>
    public ParkWord With(int state) => Of(Sequence, state);

    /// <summary>Park <paramref name="sequence"/> in <paramref name="state"/>.</summary>
    public static ParkWord Of(long sequence, int state)
    {
        ProtocolBug.Check((uint)state <= WorkerThread.ParkState.Last && (ulong)sequence <= MaxSequence, "a park word holds a ParkState and a sequence in range");
        return new((sequence << StateBits) | (long)state);
    }

    /// <inheritdoc />
    public bool Equals(ParkWord other) => Raw == other.Raw;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is ParkWord other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => Raw.GetHashCode();

    /// <summary>Equality of the raw words.</summary>
    public static bool operator ==(ParkWord left, ParkWord right) => left.Equals(right);

    /// <summary>Inequality of the raw words.</summary>
    public static bool operator !=(ParkWord left, ParkWord right) => !left.Equals(right);

    /// <inheritdoc />
    public override string ToString() => $"park {Sequence} state {State}";
}
