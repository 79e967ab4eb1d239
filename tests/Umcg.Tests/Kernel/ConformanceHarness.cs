using System.Runtime.InteropServices;

namespace Umcg.Tests.Kernel;

/// <summary>
/// A dedicated thread that runs the calls posted to it, one after another. Every kernel-half call acts on
/// the calling thread's own registration, so each task of a conformance test is one of these, driven step
/// by step from the test thread. Results come back through tasks that are awaited under the watchdog.
/// </summary>
internal sealed class TaskThread
{
    private readonly BlockingCollection<Action> _work = [];
    private readonly UmcgKernel _kernel;

    public TaskThread(UmcgKernel kernel, string name)
    {
        _kernel = kernel;
        var started = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        Thread = new Thread(() =>
        {
            started.SetResult(UmcgKernel.CurrentTid);
            foreach (var action in _work.GetConsumingEnumerable())
            {
                action();
            }
        })
        { IsBackground = true, Name = name };
        Thread.Start();
        Tid = Result(started.Task, $"{name} to start");
    }

    public Thread Thread { get; }

    public int Tid { get; }

    /// <summary>Queues <paramref name="call"/> on the thread; the task completes when it returns.</summary>
    public Task<T> Post<T>(Func<T> call)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _work.Add(() =>
        {
            try
            {
                done.SetResult(call());
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        });
        return done.Task;
    }

    /// <summary>Runs <paramref name="call"/> on the thread and waits for it (under the watchdog).</summary>
    public T Call<T>(Func<T> call) => Result(Post(call), $"a call on '{Thread.Name}'");

    public void Call(Action call) => Call(() =>
    {
        call();
        return 0;
    });

    /// <summary>The result of a posted call, waited for under the watchdog.</summary>
    public T Result<T>(Task<T> task, string what)
    {
        Watchdog.Wait(_kernel, task, what);
        return task.GetAwaiter().GetResult();
    }

    /// <summary>Ends the thread (without touching its registration) and joins it.</summary>
    public void Exit()
    {
        _work.CompleteAdding();
        Watchdog.Join(_kernel, Thread);
    }
}

/// <summary>A task thread with its control block.</summary>
internal sealed unsafe class Party
{
    public Party(UmcgKernel kernel, string name)
    {
        Kernel = kernel;
        Thread = new TaskThread(kernel, name);
        Block = TaskBlock.Allocate();
    }

    public UmcgKernel Kernel { get; }

    public TaskThread Thread { get; }

    public TaskBlock Block { get; }

    public UmcgTask* Task => Block.Task;

    public int Tid => Thread.Tid;

    /// <summary>Whether <see cref="Rig.Retire"/> has ended this party.</summary>
    public bool IsRetired { get; set; }

    public uint Word => Volatile.Read(ref Task->State);

    public TaskState State => (TaskState)(Word & UmcgConstants.StateMask);

    public TaskFlags Flags => (TaskFlags)(Word & UmcgConstants.FlagsMask);

    public uint NextTid => Volatile.Read(ref Task->NextTid);

    public ulong ListHead => Volatile.Read(ref Task->RunnableWorkersPtr);

    /// <summary>Whether this party's thread is registered with its kernel (asked on that thread).</summary>
    public bool IsRegisteredThread => Thread.Call(() => Kernel.IsRegisteredThread);

    public T Call<T>(Func<T> call) => Thread.Call(call);

    public Task<T> Post<T>(Func<T> call) => Thread.Post(call);

    public T Result<T>(Task<T> task, string what) => Thread.Result(task, what);

    /// <summary>The 64 bytes of the control block: what "nothing changed" compares.</summary>
    public byte[] Bytes() => new ReadOnlySpan<byte>(Task, UmcgConstants.TaskSize).ToArray();

    /// <summary>Ctl on this party's thread, with its own kernel half.</summary>
    public Errno Ctl(CtlFlags flags, UmcgTask* block, ClockId clock = ClockId.Monotonic) => Call(() => Kernel.Ctl(flags, block, clock));

    /// <summary>Registers this party's own block (as a server unless <paramref name="extra"/> says Worker).</summary>
    public Errno Register(CtlFlags extra = CtlFlags.None, ClockId clock = ClockId.Monotonic) => Ctl(CtlFlags.Register | extra, Task, clock);

    public Errno Unregister(CtlFlags extra = CtlFlags.None) => Ctl(CtlFlags.Unregister | extra, Task);

    /// <summary>The party's thread enters a blocking region.</summary>
    public Errno SysEnter() => Call(Kernel.SysEnter);

    /// <summary>The party's thread leaves a blocking region (and returns once it runs again, if it was queued).</summary>
    public Errno SysExit() => Call(Kernel.SysExit);

    /// <summary>The party's thread passes a safepoint.</summary>
    public Errno NotifyResume() => Call(Kernel.NotifyResume);

    /// <summary>The state word's user bits (16–31).</summary>
    public uint UserBits => Word >> 16;

    public override string ToString() => $"{Thread.Thread.Name} tid={Tid} word=0x{Word:x8} next=0x{NextTid:x8}";
}

/// <summary>
/// One conformance test's world: a fresh kernel half over the named parker, plus helpers that bring up
/// servers and workers on their own threads and drive them step by step.
/// </summary>
/// <remarks>
/// Disposing the rig is the test's clean end: every server <see cref="Server"/> made that is still registered
/// and that the test did not end itself is stopped, asserting that it unregisters from RUNNING. After an assertion already failed on the
/// test's thread the rig asserts nothing more, so that the first failure is the one reported.
/// </remarks>
internal sealed unsafe class Rig : IDisposable
{
    /// <summary>A TID no thread can have: above every pid_max Linux allows, inside the TID mask.</summary>
    public const int NoSuchTid = (int)UmcgConstants.TidMask;

    /// <summary>The four clocks Ctl accepts.</summary>
    public static readonly ClockId[] Clocks = [ClockId.Realtime, ClockId.Monotonic, ClockId.Boottime, ClockId.Tai];

    private readonly List<Party> _servers = [];
    private readonly int _failuresAtStart = TestFailures.OnThisThread;
    private int _names;

    public Rig(string parker)
    {
        Parker = parker;
        Kernel = Parkers.NewKernel(parker);
    }

    public string Parker { get; }

    public UmcgKernel Kernel { get; }

    /// <summary>Every (parker, clock) pair: tests whose behaviour depends on the registered clock.</summary>
    public static TheoryData<string, ClockId> BothParkersEachClock() => ParkerCases.Each(Clocks);

    /// <summary>A thread and a zeroed block, not registered.</summary>
    public Party NewParty(string role) => new(Kernel, $"{role} {Interlocked.Increment(ref _names)}");

    /// <summary>A thread with a block set up as a server would set it (RUNNING, server_tid = own TID), not yet registered.</summary>
    public Party NewServerParty(ushort userBits = 0)
    {
        var p = NewParty("server");
        p.Task->ServerTid = (uint)p.Tid;
        p.Task->State = (uint)TaskState.Running | ((uint)userBits << 16);
        return p;
    }

    /// <summary>A registered server (asserted), RUNNING and idle on its own thread.</summary>
    public Party Server(ClockId clock = ClockId.Monotonic, ushort userBits = 0)
    {
        var p = NewServerParty(userBits);
        Assert.Equal(Errno.Ok, p.Register(clock: clock));
        _servers.Add(p);
        return p;
    }

    /// <summary>A registered server of another kernel half over the same parker: a task, but none of this one's.</summary>
    public Party ForeignServer() => new Rig(Parker).Server();

    /// <summary>A thread with a block set up as a worker of <paramref name="serverTid"/> (BLOCKED), not yet registered.</summary>
    public Party NewWorkerParty(int serverTid, ushort userBits = 0)
    {
        var p = NewParty("worker");
        p.Task->ServerTid = (uint)serverTid;
        p.Task->State = (uint)TaskState.Blocked | ((uint)userBits << 16);
        return p;
    }

    /// <summary>Posts the worker's registration; it completes only once a server runs the worker.</summary>
    public Task<Errno> BeginRegisterWorker(Party worker, ClockId clock = ClockId.Monotonic) =>
        worker.Post(() => Kernel.Ctl(CtlFlags.Register | CtlFlags.Worker, worker.Task, clock));

    /// <summary>A worker registered with <paramref name="server"/>, RUNNABLE and queued on its list (not running).</summary>
    /// <remarks>The server must be RUNNING and idle: it sleeps in Wait until the worker's registration wakes it.</remarks>
    public (Party Worker, Task<Errno> Registration) QueuedWorker(Party server, ClockId clock = ClockId.Monotonic, ushort userBits = 0)
    {
        var w = NewWorkerParty(server.Tid, userBits);
        var registration = QueueWithServerAsleep(server, () => BeginRegisterWorker(w, clock), $"worker {w.Tid} queued");
        Assert.Equal(TaskState.Runnable, w.State);
        Assert.False(registration.IsCompleted, "a worker's registration returned before a server ran it");
        return (w, registration);
    }

    /// <summary>
    /// Starts something that queues a worker on <paramref name="server"/>'s list and wakes the server (a
    /// registration, leaving a blocking region, a safepoint), with the server asleep in Wait meanwhile, and
    /// returns once that wake has arrived: by then the worker is on the list and done with its server. The
    /// server must be RUNNING and idle; it is RUNNING again afterwards.
    /// </summary>
    public Task<T> QueueWithServerAsleep<T>(Party server, Func<Task<T>> start, string what)
    {
        Assert.Equal(TaskState.Running, server.State);
        var sleep = server.Post(() =>
        {
            Assert.True(StateWord.PrepareWait(server.Task), "server was not RUNNING before Wait");
            return Kernel.Wait(0, 0);
        });

        // RUNNABLE from here on: a wake now either ends the sleep or makes the Wait return EAGAIN.
        Until(() => server.State == TaskState.Runnable, "server about to sleep");
        var started = start();
        var r = server.Result(sleep, what);
        Assert.True(r is Errno.Ok or Errno.EAGAIN, $"server's Wait: {r}");
        Assert.Equal(TaskState.Running, server.State);
        return started;
    }

    /// <summary>The worker leaves its blocking region (it is queued, its idle server woken); completes once it runs again.</summary>
    public Task<Errno> BeginSysExit(Party server, Party worker) =>
        QueueWithServerAsleep(server, () => worker.Post(() => Kernel.SysExit()), $"worker {worker.Tid} unblocked");

    /// <summary>
    /// The server's half of the canonical loop, once: RUNNABLE|COND_WAIT, drain the runnable list (into
    /// <paramref name="drained"/> if given), name <paramref name="nextTid"/>, Wait without a deadline.
    /// </summary>
    public Task<Errno> BeginServe(Party server, int nextTid, List<int>? drained = null) => server.Post(() =>
    {
        Assert.True(StateWord.PrepareWait(server.Task), "server was not RUNNING before Wait");
        var list = drained ?? [];
        Assert.Equal(Errno.Ok, RunnableList.Drain(Kernel, server.Task, list));
        Volatile.Write(ref server.Task->NextTid, (uint)nextTid);
        var r = Kernel.Wait(0, 0);

        // Woken between PrepareWait and Wait (a late wake from a worker that queued itself earlier): the
        // named worker was not started. Go round again, as the canonical loop does.
        for (int i = 0; i < 1000 && r == Errno.EAGAIN && StateWord.StateOf(server.Task) == TaskState.Running && server.Task->NextTid == (uint)nextTid; i++)
        {
            Assert.True(StateWord.PrepareWait(server.Task));
            Assert.Equal(Errno.Ok, RunnableList.Drain(Kernel, server.Task, list));
            r = Kernel.Wait(0, 0);
        }

        return r;
    });

    /// <summary>
    /// A server running one worker: the server asleep in Wait with next_tid = worker|TID_RUNNING, the worker
    /// RUNNING on its thread. Returns the server's pending Wait, which completes once the worker stops running.
    /// </summary>
    public (Party Worker, Task<Errno> ServerWait) RunningWorker(Party server, ClockId clock = ClockId.Monotonic, ushort userBits = 0)
    {
        var (w, registration) = QueuedWorker(server, clock, userBits);
        var serverWait = BeginServe(server, w.Tid);
        Assert.Equal(Errno.Ok, w.Result(registration, "worker registration"));
        AssertRunningFor(server, w);
        return (w, serverWait);
    }

    /// <summary>
    /// Two workers queued on <paramref name="server"/>, and the server runs the first: w1 RUNNING with the server
    /// asleep, w2 RUNNABLE and queued, its registration still pending. Returns the server's pending Wait, which
    /// completes once w1 stops running.
    /// </summary>
    public (Party W1, Party W2, Task<Errno> Registration2, Task<Errno> ServerWait) FirstOfTwoQueuedWorkersRunning(Party server)
    {
        var (w1, registration1) = QueuedWorker(server);
        var (w2, registration2) = QueuedWorker(server);
        var serverWait = Run(server, w1, registration1, "w1 run");
        return (w1, w2, registration2, serverWait);
    }

    /// <summary>
    /// <see cref="RunningWorker"/> on <paramref name="clock"/>, asserting that the worker's registration (BLOCKED
    /// -> RUNNABLE) stamped runnable_ts on that clock.
    /// </summary>
    public (Party Worker, Task<Errno> ServerWait) RunningWorkerStampedOn(Party server, ClockId clock)
    {
        long before = KernelClock.Now(clock);
        var (w, serverWait) = RunningWorker(server, clock);
        long after = KernelClock.Now(clock);
        Assert.InRange((long)Volatile.Read(ref w.Task->RunnableTs), before, after);
        return (w, serverWait);
    }

    /// <summary>
    /// A worker that ran for <paramref name="server"/> and then entered a blocking region: BLOCKED and on no
    /// list, its server woken, RUNNING and idle.
    /// </summary>
    public Party BlockedWorker(Party server)
    {
        var (w, serverWait) = RunningWorker(server);
        Assert.Equal(Errno.Ok, w.SysEnter());
        Assert.Equal(Errno.Ok, server.Result(serverWait, "server woken by the block"));
        Assert.Equal(TaskState.Blocked, w.State);
        return w;
    }

    /// <summary>
    /// The server names <paramref name="worker"/> and sleeps (<see cref="BeginServe"/>); the worker's
    /// <paramref name="pending"/> call (its registration, Wait, SysExit or safepoint) returns Ok as it runs.
    /// Returns the server's pending Wait, which completes once the worker stops running.
    /// </summary>
    public Task<Errno> Run(Party server, Party worker, Task<Errno> pending, string what, List<int>? drained = null)
    {
        var serverWait = BeginServe(server, worker.Tid, drained);
        Assert.Equal(Errno.Ok, worker.Result(pending, what));
        return serverWait;
    }

    /// <summary>The server runs <paramref name="worker"/> (see <see cref="Run"/>), which then unregisters and is retired.</summary>
    public void RunAndFinish(Party server, Party worker, Task<Errno> pending, string what) =>
        Finish(worker, server, Run(server, worker, pending, what));

    /// <summary>
    /// A worker running while its server is awake: the server starts it from a Wait whose deadline has already
    /// passed, so the Wait returns ETIMEDOUT with the server RUNNING and next_tid = worker|TID_RUNNING.
    /// </summary>
    public Party RunningWorkerServerAwake(Party server, ClockId clock = ClockId.Monotonic)
    {
        var (w, registration) = QueuedWorker(server, clock);
        Assert.Equal(Errno.ETIMEDOUT, StartAndTimeOut(server, w.Tid));
        Assert.Equal(Errno.Ok, w.Result(registration, "worker registration"));
        Assert.Equal(TaskState.Running, w.State);
        Assert.Equal(TaskState.Running, server.State);
        Assert.Equal((uint)w.Tid | UmcgConstants.TidRunning, server.NextTid);
        return w;
    }

    /// <summary>The server names <paramref name="nextTid"/> and Waits with a deadline that has already passed.</summary>
    public Errno StartAndTimeOut(Party server, int nextTid) => server.Call(() =>
    {
        Assert.True(StateWord.PrepareWait(server.Task), "server was not RUNNING before Wait");
        Assert.Equal(Errno.Ok, RunnableList.Drain(Kernel, server.Task, []));
        Volatile.Write(ref server.Task->NextTid, (uint)nextTid);
        return Kernel.Wait(0, 1);
    });

    /// <summary>A second (or later) worker that is RUNNABLE and queued while another already runs for the server.</summary>
    public Party ExtraQueuedWorker(Party server, out Task<Errno> registration)
    {
        (var w, registration) = QueuedWorker(server);
        return w;
    }

    public void AssertRunningFor(Party server, Party worker)
    {
        Assert.Equal(TaskState.Running, worker.State);
        Assert.Equal((uint)worker.Tid | UmcgConstants.TidRunning, server.NextTid);
        Assert.Equal(TaskState.Runnable, server.State);
    }

    /// <summary>The worker gives the CPU back to its server (next_tid 0): RUNNABLE|COND_WAIT, Wait. Returns the pending Wait.</summary>
    public Task<Errno> BeginYield(Party worker, int nextTid = 0) => worker.Post(() =>
    {
        Volatile.Write(ref worker.Task->NextTid, (uint)nextTid);
        Assert.True(StateWord.PrepareWait(worker.Task), "worker was not RUNNING before Wait");
        return Kernel.Wait(0, 0);
    });

    /// <summary>
    /// The worker was removed for breaking the protocol (the kill reason names <paramref name="reason"/>): it is
    /// no longer registered, and the server it ran for was released and woken (its pending
    /// <paramref name="serverWait"/> returns Ok) with its slot cleared and nothing queued. Then the server is
    /// proved usable, the worker retired and the server stopped.
    /// </summary>
    public void AssertRemovedAndServerGoesOn(Party worker, Party server, Task<Errno> serverWait, string reason)
    {
        Assert.False(worker.IsRegisteredThread);
        Assert.Contains(reason, worker.Call(() => UmcgKernel.LastKillReason), StringComparison.Ordinal);
        Assert.Equal(Errno.Ok, server.Result(serverWait, "server released by the removal"));
        Assert.Equal(0u, server.NextTid);
        Assert.Equal(0ul, server.ListHead);

        AssertServerUsable(server);
        Retire(worker);
        Stop(server);
    }

    /// <summary>
    /// Proves a server still works: a fresh worker registers, the server runs it, it unregisters, and the
    /// server's Wait returns with its slot cleared. The server must be RUNNING and idle.
    /// </summary>
    public void AssertServerUsable(Party server)
    {
        Assert.Equal(TaskState.Running, server.State);
        var (w, serverWait) = RunningWorker(server);
        Assert.Equal(Errno.Ok, w.Unregister(CtlFlags.Worker));
        Assert.Equal(Errno.Ok, server.Result(serverWait, "server woken by the unregistering worker"));
        Assert.Equal(TaskState.Running, server.State);
        Assert.Equal(0u, server.NextTid);
        Retire(w);
    }

    /// <summary>Ends a party whose task is no longer registered, and frees its block.</summary>
    public void Retire(Party p)
    {
        Assert.False(p.IsRegisteredThread, $"{p} is still registered");
        p.Thread.Exit();
        Assert.False(p.Block.IsRegistered);
        p.Block.Dispose();
        p.IsRetired = true;
    }

    /// <summary>Unregisters a RUNNING server (asserted), then retires it.</summary>
    public void Stop(Party server)
    {
        Assert.Equal(Errno.Ok, server.Unregister());
        Assert.Equal(TaskState.None, server.State);
        Retire(server);
    }

    /// <summary>Unregisters a RUNNING worker (asserted) and waits for the server's Wait it ends, then retires it.</summary>
    public void Finish(Party worker, Party server, Task<Errno> serverWait)
    {
        Assert.Equal(Errno.Ok, worker.Unregister(CtlFlags.Worker));
        Assert.Equal(Errno.Ok, server.Result(serverWait, "server woken by the unregistering worker"));
        Retire(worker);
    }

    /// <summary>
    /// Unregisters a RUNNING worker (asserted) whose server is awake, not asleep in Wait: the worker's leaving
    /// clears the server's slot. Then retires the worker.
    /// </summary>
    public void FinishWithServerAwake(Party worker, Party server)
    {
        Assert.Equal(Errno.Ok, worker.Unregister(CtlFlags.Worker));
        Assert.Equal(0u, server.NextTid);
        Retire(worker);
    }

    /// <summary>The clean end: stops every server of <see cref="Server"/> the test left registered (asserted), unless the test already failed.</summary>
    public void Dispose()
    {
        if (TestFailures.OnThisThread != _failuresAtStart)
        {
            return;
        }

        foreach (var server in _servers)
        {
            // A server the test ended some other way (its thread exited and the kernel half reaped it) is not
            // registered any more: nothing left to stop.
            if (!server.IsRetired && server.Block.IsRegistered)
            {
                Stop(server);
            }
        }
    }

    public void Until(Func<bool> condition, string what) => Watchdog.Until(condition, Kernel, what);

    /// <summary>Runs <paramref name="call"/> on a fresh thread that is not a UMCG task, and ends the thread.</summary>
    public T OnFreshThread<T>(Func<T> call)
    {
        var t = new TaskThread(Kernel, $"plain {Interlocked.Increment(ref _names)}");
        try
        {
            return t.Call(call);
        }
        finally
        {
            t.Exit();
        }
    }
}

/// <summary>Native memory the test owns: never a <see cref="TaskBlock"/>, so the kernel half must refuse it.</summary>
internal sealed unsafe class ForeignMemory : IDisposable
{
    public ForeignMemory(int size = 4096)
    {
        Base = (byte*)NativeMemory.AlignedAlloc((nuint)size, UmcgConstants.TaskAlign);
        NativeMemory.Clear(Base, (nuint)size);
    }

    public byte* Base { get; private set; }

    /// <summary>An aligned block-sized slot inside the allocation.</summary>
    public UmcgTask* Slot(int index) => (UmcgTask*)(Base + (index * UmcgConstants.TaskSize));

    public void Dispose()
    {
        if (Base != null)
        {
            NativeMemory.AlignedFree(Base);
            Base = null;
        }
    }
}

/// <summary>What Linux says about one thread of this process: whether it sleeps, and how often it went to sleep.</summary>
internal static class ThreadProc
{
    /// <summary>The scheduler state letter of thread <paramref name="tid"/> (R, S, D, ...).</summary>
    public static char State(int tid)
    {
        string stat = File.ReadAllText($"/proc/self/task/{tid}/stat");

        // The command name may contain spaces and parentheses: the state follows the last ')'.
        return stat[stat.LastIndexOf(')') + 2];
    }

    /// <summary>How many times thread <paramref name="tid"/> has given up the CPU to sleep.</summary>
    public static long VoluntarySwitches(int tid)
    {
        foreach (string line in File.ReadLines($"/proc/self/task/{tid}/status"))
        {
            if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan("voluntary_ctxt_switches:".Length).Trim(), CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"no voluntary_ctxt_switches for thread {tid}");
    }

    /// <summary>Whether the thread is asleep in the kernel right now.</summary>
    public static bool Sleeping(int tid) => State(tid) == 'S';
}
