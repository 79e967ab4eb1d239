using System.Collections.Concurrent;
using Umcg.Abi;
using Umcg.Kernel;
using Umcg.Kernel.Native;
using Umcg.Scheduling.Policies;

namespace Umcg.Scheduling;

/// <summary>
/// One server: an OS thread pinned to a CPU, registered as a UMCG server, running the canonical server loop
/// over its run-queue policy (see Server.Loop.cs). Other threads reach it only through its run-queue lock,
/// its inbox and <see cref="Wake"/>.
/// </summary>
internal sealed unsafe partial class Server
{
    private readonly UmcgScheduler _scheduler;
    private readonly TaskBlock _block;
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _registered = new();
    private readonly TimerHeap _timers = new();

    // Workers made runnable by user space (unparked, or handed over by another server): the server moves
    // them to its run queue on its next loop. Producers call Wake() after enqueuing.
    private readonly ConcurrentQueue<WorkerThread> _inbox = new();

    private Exception? _startFailure;
    private volatile bool _stopping;

    // True while the loop sleeps with no worker to run: other servers hand work to idle servers first. Read through
    // IsIdle: an arrival may claim the server while it sleeps open (Server.OpenStart.cs), and the mark stays until it wakes.
    private volatile bool _idle;

    // True once this turn of the loop has armed a deadline for its running worker's time slice (or for a re-check
    // of a preemption it requested): the loop then wakes within one slice whatever happens to the run queue.
    // Cleared at the start of every turn, before the loop reads the policy to decide; set only after. A worker
    // queued straight into the run queue (MakeReady's direct path, which does not wake us) that reads false after
    // its enqueue knows we decided without it and may sleep with no deadline at all, so it wakes us: either our
    // read of the policy came after its enqueue (under _queueLock) and saw it, or our clearing came before its
    // read and it wakes us.
    private volatile bool _sliceArmed;

    public Server(UmcgScheduler scheduler, int index, int cpu, IRunQueuePolicy policy)
    {
        _scheduler = scheduler;
        Index = index;
        Cpu = cpu;

        // The shipped policies are trusted (and kept off the containment's bookkeeping); any other is contained.
        _policy = policy.GetType().Assembly == typeof(Server).Assembly ? policy : new ContainedPolicy(policy);
        _block = TaskBlock.Allocate();
        _thread = new Thread(Loop) { IsBackground = true, Name = $"{scheduler.Options.Name} server {index}" };
    }

    public int Index { get; }

    /// <summary>The CPU the server is pinned to, or -1.</summary>
    public int Cpu { get; }

    public int Tid { get; private set; }

    /// <summary>
    /// Whether the server sleeps (or is about to) with nothing to run. A worker that claimed it while it slept open (O2)
    /// shows in its next_tid before the server wakes to clear its mark, and a block that left it open (O5) set no mark:
    /// so the slot is read too.
    /// </summary>
    public bool IsIdle => (_idle && !Slot.IsRunning) || Slot.IsOpen;

    /// <summary>Whether the server's record names a running worker now (a snapshot of next_tid's TID_RUNNING).</summary>
    public bool RunsAWorker => Slot.IsRunning;

    public ServerCounters Counters { get; } = new();

    private UmcgKernel Kernel => _scheduler.Kernel;

    private UmcgTask* Self => _block.Task;

    /// <summary>The server's next_tid, read once: which worker it picked or runs (see <see cref="RunningSlot"/>).</summary>
    private RunningSlot Slot => RunningSlot.FromRaw(Volatile.Read(ref Self->NextTid));

    public void Start()
    {
        _thread.UnsafeStart();
        _registered.Wait();
        if (_startFailure is not null)
        {
            throw new UmcgProtocolException($"server {Index} could not start", _startFailure);
        }
    }

    /// <summary>Asks the loop to leave once no worker thread of the scheduler is left.</summary>
    public void Stop()
    {
        _stopping = true;
        Wake();
    }

    public bool Join(TimeSpan timeout) => _thread.Join(timeout);

    public Thread Thread => _thread;

    public void FreeBlock()
    {
        if (!_block.IsRegistered)
        {
            _block.Dispose();
        }
    }

    /// <summary>
    /// Wakes the server if it sleeps in Wait: what the kernel half does for a worker that unblocks, done by user
    /// space for work it made runnable itself (the RFC's missing wake-to-remote-idle).
    /// </summary>
    /// <remarks>
    /// CAS the server's state RUNNABLE → RUNNING, then Kick it: the kick makes the sleeping server re-check its
    /// state and return from Wait (retried while the word stays RUNNABLE: the server's own clearing of
    /// COND_WAIT can fail the CAS). A server that has set RUNNABLE|COND_WAIT but not yet called Wait gets EAGAIN
    /// from Wait and loops; a RUNNING server will see the work on its next loop (the producer's inbox
    /// enqueue is ordered before this read of the state by the fence below).
    /// </remarks>
    public void Wake()
    {
        // Full fence between the caller's inbox enqueue and our read of the state: ConcurrentQueue publishes
        // the item with a release store after its interlocked step, and a store followed by a load may be
        // reordered. Without the fence we could read RUNNING from before the server's PrepareWait while the
        // server's inbox check misses the item, and it would sleep with work in its inbox.
        Interlocked.MemoryBarrier();
        uint* state = &Self->State;
        uint s = Volatile.Read(ref *state);
        while ((s & UmcgConstants.StateMask) == (uint)TaskState.Runnable)
        {
            uint running = (s & UmcgConstants.UserMask) | (uint)TaskState.Running;
            uint seen = Interlocked.CompareExchange(ref *state, running, s);
            if (seen == s)
            {
                Kernel.Kick(0, Tid);
                Interlocked.Increment(ref Counters.RemoteWakes);
                return;
            }

            // The word changed under us but may still be RUNNABLE: the server clears TF_COND_WAIT on its way
            // into Wait, and giving up then would leave it asleep with our work in its inbox. Look again.
            s = seen;
        }
    }

    /// <summary>
    /// A worker of this server became runnable through user space (unparked): straight into the run queue if
    /// the caller is this server's running worker (the server will pick it when the caller stops), else
    /// through the inbox with a wake.
    /// </summary>
    public void MakeReady(WorkerThread worker)
    {
        var caller = WorkerThread.Current;
        if (caller is not null && ReferenceEquals(caller.Server, this) && Kernel.IsWorkerThread)
        {
            bool wantsSlice = EnqueueBeside(worker, caller);

            // Enough only while the caller holds our slot: its slot release, which comes later, wakes us and we
            // find the worker. A caller inside a blocking region, or marked BLOCKED by a detector while it runs on
            // to its next safepoint, holds no slot and we may be asleep: wake us. Full fence: the enqueue before
            // the read of the slot, against the release's CAS that comes before our next pick.
            Interlocked.MemoryBarrier();
            if (!Slot.IsRunningTid(caller.Tid))
            {
                Wake();
            }
            else if (wantsSlice && !_sliceArmed)
            {
                // The caller may run on for long (a CPU loop with safepoints, even one that waits for the worker
                // just queued): we may sleep with no deadline, decided while the queue had nothing to slice for,
                // and only a wake lets us measure the caller's slice (see _sliceArmed for the order).
                Wake();
            }
            else if (!wantsSlice)
            {
                // The policy lets the caller run on (a lower priority was queued): the worker waits here for as
                // long as the caller runs, while another server may sleep idle. Idle servers steal only when they
                // look, so wake them to look.
                WakeServersThatMaySteal(worker);
            }

            return;
        }

        _inbox.Enqueue(worker);
        Wake();
    }

    /// <summary>
    /// Wakes every other server that runs no worker, so that it looks for work again and steals
    /// <paramref name="queued"/> if this server cannot run it soon.
    /// </summary>
    /// <remarks>
    /// A server that tried to steal before our enqueue (both under our _queueLock) had set its state RUNNABLE
    /// before that try, so the Wake below, after our enqueue, finds it RUNNABLE (or already woken) and it looks
    /// again. Its slot read here is no later than that try either: a slot holding TID_RUNNING then means it runs
    /// a worker of its own, whose release will make it look again.
    /// </remarks>
    private void WakeServersThatMaySteal(WorkerThread queued)
    {
        if (!_scheduler.Options.Balance || !queued.CanMigrate)
        {
            return;
        }

        foreach (var other in _scheduler.Servers)
        {
            if (!ReferenceEquals(other, this) && !other.Slot.IsRunning)
            {
                other.Wake();
            }
        }
    }

    /// <summary>Pins the server thread, if asked.</summary>
    private void PinSelf()
    {
        if (Cpu >= 0 && OperatingSystem.IsLinux())
        {
            LinuxSyscalls.PinToCpu(0, Cpu);
        }
    }
}
