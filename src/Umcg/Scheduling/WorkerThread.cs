using System.Runtime.CompilerServices;
using Umcg.Abi;
using Umcg.Collections;
using Umcg.Kernel;
using Umcg.Kernel.Detection;

namespace Umcg.Scheduling;

/// <summary>
/// One OS thread registered as a UMCG worker, reused from body to body: what a run-queue policy orders. A
/// finished worker thread waits for its next body inside a blocking region, off every server's CPU.
/// </summary>
/// <remarks>
/// Properties read by policies (<see cref="Priority"/>, <see cref="Weight"/>, <see cref="VirtualRuntime"/>)
/// are only changed under the owning server's run-queue lock or while the worker is not queued.
/// </remarks>
public sealed unsafe partial class WorkerThread : IResumeStamp
{
    [ThreadStatic]
    private static WorkerThread? t_current;

    private ExecutionContext? _ownContext;

    // Only this thread locks it, to take a pending interrupt (AbsorbPendingInterrupt).
    private readonly object _interruptProbe = new();

    internal WorkerThread(UmcgScheduler scheduler, Server server, int stackSize)
    {
        Scheduler = scheduler;
        Server = server;
        StackSize = stackSize;
        Block = scheduler.Blocks.Rent();
        Thread = new Thread(ThreadMain, stackSize) { IsBackground = true, Name = scheduler.WorkerThreadName };
    }

    /// <summary>The worker thread the caller is, or null.</summary>
    internal static WorkerThread? Current => t_current;

    /// <summary>The worker's Linux TID.</summary>
    public int Tid { get; private set; }

    /// <summary>The current body's name, if it has one.</summary>
    public string? Name => Item?.Options.Name;

    /// <summary>The current body's priority (see <see cref="WorkerOptions.Priority"/>).</summary>
    public int Priority { get; private set; }

    /// <summary>The current body's weight (see <see cref="WorkerOptions.Weight"/>).</summary>
    public int Weight { get; private set; } = 1024;

    /// <summary>Policy-owned accounting: CPU time scaled by weight (see <see cref="Policies.FairSharePolicy"/>).</summary>
    public long VirtualRuntime { get; set; }

    /// <summary>When the worker last became RUNNABLE (kernel-half timestamp, ns, monotonic clock).</summary>
    public long RunnableSinceNs => (long)Volatile.Read(ref Block.Task->RunnableTs);

    /// <summary>Index of the server the worker belongs to now.</summary>
    public int ServerIndex => Server.Index;

    internal UmcgScheduler Scheduler { get; }

    internal TaskBlock Block { get; }

    internal Thread Thread { get; }

    internal int StackSize { get; }

    /// <summary>The server this worker belongs to; changed only together with the block's server_tid, while the worker is not running.</summary>
    internal Server Server { get; set; }

    /// <summary>Whether the current body may move between servers.</summary>
    internal bool CanMigrate { get; private set; } = true;

    internal WorkItem? Item { get; set; }

    /// <summary>How deep the thread is in nested blocking regions; only the outermost one talks to the kernel half.</summary>
    internal int BlockingDepth { get; set; }

    internal int BlockingDepthForTests => BlockingDepth;

    /// <summary>When the worker last started running (monotonic ns): the start of its time slice.</summary>
    internal long RunStartNs;

    /// <summary>CPU time run since the policy was last charged (ns); written by the worker, taken by its server.</summary>
    internal long UnchargedNs;

    // Intrusive links of WorkerQueue: O(1) removal when a worker is switched to directly or stolen.
    internal ListLinks<WorkerThread> QueueLinks;

    internal UmcgKernel Kernel => Scheduler.Kernel;

    internal void Start() => Thread.UnsafeStart();

    /// <summary>Hands a body to this (new or idle) worker thread; it will run it on <see cref="Server"/>.</summary>
    internal void Assign(WorkItem item)
    {
        Item = item;
        Priority = item.Options.Priority;
        Weight = Math.Max(1, item.Options.Weight);
        CanMigrate = item.Options.ServerAffinity is null;

        // The rank its arrivals carry (K4q): written while the thread is not running, before it queues.
        StateWord.SetArrival(Block.Task, Server.RankOf(this));
    }

    /// <summary>Moves a worker that is not running to <paramref name="server"/>: the kernel half queues it there next.</summary>
    internal void MoveTo(Server server)
    {
        Server = server;
        Volatile.Write(ref Block.Task->ServerTid, (uint)server.Tid);
    }

    /// <summary>
    /// Puts back the thread's own (empty) execution context if a body left another one: a body that runs in the
    /// caller's context is already restored by <see cref="ExecutionContext.Run"/>, but one that flows none
    /// (UnsafeSpawn, posted callbacks) could leave an <see cref="AsyncLocal{T}"/> value, or a suppressed flow, for the next body.
    /// </summary>
    internal void RestoreOwnExecutionContext()
    {
        if (!ReferenceEquals(ExecutionContext.Capture(), _ownContext))
        {
            ExecutionContext.Restore(_ownContext!);
        }
    }

    // The frames under a body stay small: the deepest path a worker thread takes is its body's own (say, a wait
    // on a monitor, 2.5 KB of runtime frames) on top of these, and each 4 KB stack page that path reaches is
    // memory the thread keeps for its whole life. So the one-off steps (registration, leaving) are kept out of
    // ThreadMain's frame: inlined there they made it 670 bytes, which took the deepest path past 8 KB, a third
    // touched page for every worker (docs/benchmarks-workloads.md, "scale").
    private void ThreadMain()
    {
        if (!Register())
        {
            return;
        }

        try
        {
            OnRunning();
            RunBodies();
        }
#pragma warning disable CA1031 // A worker thread must never take the process down; the fault is reported.
        catch (Exception e)
        {
            Scheduler.ReportFault(e);
            if (Item is { } lost)
            {
                Item = null;
                Scheduler.Abandon(lost, e);
            }
        }
#pragma warning restore CA1031
        finally
        {
            Leave();
        }
    }

    /// <summary>The thread's first steps: known by its TID, registered with the kernel half; returns once a server runs it.</summary>
    /// <returns>False if the kernel half refused it (the thread is then done).</returns>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool Register()
    {
        t_current = this;

        // Started without the starter's context (UnsafeStart), so this is the empty default one.
        _ownContext = ExecutionContext.Capture();
        Tid = UmcgKernel.CurrentTid;
        var task = Block.Task;
        task->ServerTid = (uint)Server.Tid;

        // Blocked, keeping the user bits: the arrival rank Assign wrote.
        task->State = (task->State & UmcgConstants.UserMask) | (uint)TaskState.Blocked;
        Scheduler.OnWorkerThreadStarting(this);
        ChooseInitialOsClass();

        // Returns once a server runs us (the kernel half queues a new worker like one that just unblocked).
        var r = Kernel.Ctl(CtlFlags.Register | CtlFlags.Worker, task, ClockId.Monotonic);
        if (r != Errno.Ok)
        {
            Scheduler.OnWorkerThreadFailedToRegister(this, new UmcgProtocolException("register worker", r));
            return false;
        }

        return true;
    }

    /// <summary>Runs bodies until the scheduler no longer wants this thread.</summary>
    private void RunBodies()
    {
        while (true)
        {
            var item = Item!;
            bool ran = Scheduler.RunItem(this, item);
            Item = null;

            if (!Kernel.IsWorkerThread)
            {
                // The kernel half removed us for breaking the protocol: this thread is done.
                Scheduler.Finish(item, ran);
                return;
            }

            // Off the CPU first (so that no server counts us as running), then take the next waiting body or offer
            // ourselves for reuse, and only then complete the handle, so that a caller who awaits it and spawns
            // again finds us idle.
            var r = EnterBlocking(region: false);
            RunAsNormalForWait(); // B3, before the pool can hand us a body of any rank
            var next = r == Errno.Ok && !RetiresAfterBody() ? Scheduler.NextFor(this) : UmcgScheduler.AfterBody.Exit;
            Scheduler.Finish(item, ran);
            UmcgProtocolException.ThrowIfFailed(r, "block idle worker");
            if (next == UmcgScheduler.AfterBody.Exit)
            {
                return;
            }

            if (next == UmcgScheduler.AfterBody.Idle)
            {
                WaitInPool();
            }
            else
            {
                ChooseOsClassForArrival(); // B1 for the next body, whose start is an arrival
            }

            // Ends the region, unless a releaser already did (K11: we are RUNNING, and this returns at once).
            UmcgProtocolException.ThrowIfFailed(Kernel.SysExit(), "wake idle worker");
            OnRunning();
            if (_exitRequested)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Clears a <see cref="Thread.Interrupt"/> left pending on this thread, without yielding; true if there was one.
    /// Left pending it would be thrown by the thread's next blocking wait: inside the next, unrelated body that reuses
    /// the thread, or in its last steps. Called after a sleep in the pool (an interrupt sent to the idle thread: the
    /// kernel half's futex wait is not one the runtime interrupts) and as the thread leaves; the end of a body clears
    /// one with its yield (<see cref="YieldAfterBody"/>).
    /// </summary>
    /// <remarks>
    /// A zero wait on the thread's own monitor delivers a pending interrupt without blocking (≈ 0.3 µs), and without
    /// the yield that <see cref="Thread.Sleep(int)"/> with 0 makes: a thread just run by its server has nothing to give
    /// the CPU back for.
    /// </remarks>
    internal bool AbsorbPendingInterrupt()
    {
        try
        {
            lock (_interruptProbe)
            {
                Monitor.Wait(_interruptProbe, 0);
            }

            return false;
        }
        catch (ThreadInterruptedException)
        {
            return true;
        }
    }

    /// <summary>
    /// The end of a body, while the worker still holds its server: clears an interrupt the body left pending (true if
    /// there was one), and yields the CPU (<see cref="Thread.Sleep(int)"/> with 0 does both: a <c>sched_yield</c>).
    /// </summary>
    /// <remarks>
    /// The yield is wanted, not a by-product. Bodies pass the CPU to one another without the OS ever seeing it idle, so
    /// the process's other threads — a request thread waiting to send a response, a spawner, the server woken for an
    /// urgent arrival — otherwise wait for a worker's OS slice to run out, under a stream of short bodies again and
    /// again. Without it, a priority-31 <c>/health</c> beside saturating <c>/orders</c> waited 27–32 ms at the median
    /// instead of 2 ms (docs/service.md, "Three runs on 2026-12-06"); a yield only when the server was
    /// awake did not help.
    /// </remarks>
    internal static bool YieldAfterBody()
    {
        try
        {
            Thread.Sleep(0);
            return false;
        }
        catch (ThreadInterruptedException)
        {
            return true;
        }
    }

    /// <summary>Unregisters (which needs RUNNING: an idle worker leaving is still BLOCKED).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // Out of ThreadMain's frame, as Register.
    private void Leave()
    {
        // An interrupt meant for the last body must not escape this thread's last steps (and end the process).
        if (AbsorbPendingInterrupt())
        {
            Scheduler.Stats.CountAbsorbedInterrupt();
        }

        if (Kernel.IsWorkerThread)
        {
            var task = Block.Task;
            Errno r;
            do
            {
                r = StateWord.StateOf(task) == TaskState.Blocked ? Kernel.SysExit() : Errno.Ok;
                NoteDirectStart();
                if (r == Errno.Ok)
                {
                    r = Kernel.Ctl(CtlFlags.Unregister | CtlFlags.Worker, task, ClockId.Monotonic);
                }

                // EAGAIN with BLOCKED: a detector marked us between the two calls; unblock and try again.
            }
            while (r == Errno.EAGAIN && StateWord.StateOf(task) == TaskState.Blocked);

            if (r != Errno.Ok)
            {
                Scheduler.ReportFault(new UmcgProtocolException("unregister worker", r));
            }
        }

        Scheduler.OnWorkerThreadExited(this);
    }

    /// <summary>When the worker last started running (<see cref="RunStartNs"/>), read by the detector's thread.</summary>
    long IResumeStamp.ResumedAtNs => Volatile.Read(ref RunStartNs);

    /// <summary>Called on the worker's own thread each time it starts running for a server.</summary>
    internal void OnRunning()
    {
        RunStartNs = KernelClock.Now(ClockId.Monotonic);
        NoteDirectStart();
    }

    /// <summary>
    /// O4: a worker that started itself on a server asleep open (K12) does what that server's pick would have done. Called
    /// after every kernel-half call that may have unblocked the worker (a safepoint's included), once it runs.
    /// </summary>
    internal void NoteDirectStart()
    {
        if (Kernel.TakeDirectStart())
        {
            Server.NoteClaimed(this, KernelClock.Now(ClockId.Monotonic));
            Scheduler.Telemetry.StartedDirectly(Server, this);
            RestoreIfDemoted();
            Scheduler.Detector?.NoteRunning();
        }
    }

    /// <summary>Called on the worker's own thread each time it stops running: accrue the CPU time for the policy.</summary>
    internal void OnStopping()
    {
        long now = KernelClock.Now(ClockId.Monotonic);
        Interlocked.Add(ref UnchargedNs, now - RunStartNs);
        RunStartNs = now;
    }

    /// <inheritdoc />
    public override string ToString() => $"worker {Tid}{(Name is null ? "" : $" '{Name}'")} on server {Server.Index}";
}
