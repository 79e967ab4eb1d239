using System.Collections.Concurrent;
using Umcg.Abi;
using Umcg.Diagnostics;
using Umcg.Kernel;
using Umcg.Kernel.Detection;
using Umcg.Kernel.Native;
using Umcg.Scheduling.Policies;

namespace Umcg.Scheduling;

/// <summary>
/// An M:N scheduler: N servers (one pinned OS thread per CPU) run M workers (OS threads running ordinary
/// synchronous code), at most one worker per server at a time. A worker that blocks — in a
/// <see cref="Worker.Blocking"/> region or a worker-aware primitive — hands its CPU to the next runnable
/// worker; idle servers take work from busy ones.
/// </summary>
/// <example>
/// <code>
/// await using var scheduler = new UmcgScheduler();
/// var handle = scheduler.Spawn(() =&gt; Compute(42));
/// int result = await handle;
/// </code>
/// </example>
public sealed partial class UmcgScheduler : IDisposable, IAsyncDisposable
{
    private readonly ConcurrentDictionary<int, WorkerThread> _workersByTid = new();
    private readonly Lock _poolLock = new();
    private readonly Dictionary<int, Stack<WorkerThread>> _idle = [];
    private readonly ConcurrentQueue<Exception> _faults = new();

    // Control blocks of exited worker threads. A server may still be looking at a worker it read from its
    // slot a moment before the worker left, so blocks are recycled for new worker threads, never freed,
    // until every server has stopped.
    private readonly ConcurrentBag<TaskBlock> _spareBlocks = [];
    private readonly ConcurrentBag<TaskBlock> _allBlocks = [];

    private int _idleCount;
    private int _placement;

    // Bodies spawned and not yet completed, plus one while the scheduler accepts work (so it can't reach 0 early).
    private int _outstanding = 1;
    private int _workerThreads;
    private volatile bool _accepting = true;
    private volatile bool _cancelUnstarted;

    /// <summary>Starts the servers.</summary>
    /// <exception cref="PlatformNotSupportedException">Not Linux.</exception>
    /// <exception cref="ArgumentException">
    /// The options break a rule of <see cref="OptionsValidation"/> (the message lists every one), or the policy
    /// factory returned null.
    /// </exception>
    public UmcgScheduler(UmcgSchedulerOptions? options = null)
    {
        Options = options ?? new UmcgSchedulerOptions();
        OptionsValidation.ThrowIfInvalid(Options);
        Kernel = Options.Kernel ?? UmcgKernel.Default;
        Telemetry = new SchedulerTelemetry(this);
        int[] cpus = OperatingSystem.IsLinux() ? LinuxSyscalls.GetAffinity(0) : [];
        int count = Options.Servers ?? Math.Max(1, cpus.Length == 0 ? Environment.ProcessorCount : cpus.Length);

        // Every policy before any server: a factory that returns null fails the constructor with nothing started.
        var policies = new IRunQueuePolicy[count];
        for (int i = 0; i < count; i++)
        {
            policies[i] = OptionsValidation.CreatePolicy(Options);
        }

        Servers = new Server[count];
        for (int i = 0; i < count; i++)
        {
            int cpu = Options.PinServers && cpus.Length > 0 ? cpus[i % cpus.Length] : -1;
            Servers[i] = new Server(this, i, cpu, policies[i]);
        }

        _liveServers = count;
        foreach (var server in Servers)
        {
            server.Start();
        }

        Telemetry.OnStarted();
        if (Options.Detection.Mode != BlockingDetection.None)
        {
            Detector = new BlockingDetector(Kernel, Options.Detection);
            foreach (var server in Servers)
            {
                Detector.AddServer(server.Tid);
            }
        }

        TaskScheduler = new UmcgTaskScheduler(this);
        SynchronizationContext = new UmcgSynchronizationContext(this);
    }

    /// <summary>The settings this scheduler runs with.</summary>
    public UmcgSchedulerOptions Options { get; }

    /// <summary>The kernel half the scheduler runs on.</summary>
    public UmcgKernel Kernel { get; }

    /// <summary>How many servers run.</summary>
    public int ServerCount => Servers.Length;

    /// <summary>A <see cref="System.Threading.Tasks.TaskScheduler"/> whose tasks run on this scheduler's workers.</summary>
    public TaskScheduler TaskScheduler { get; }

    /// <summary>A <see cref="System.Threading.SynchronizationContext"/> that posts to this scheduler's workers (current inside every body).</summary>
    public SynchronizationContext SynchronizationContext { get; }

    /// <summary>
    /// The detector of unannounced blocking (see <see cref="UmcgSchedulerOptions.Detection"/>), with its
    /// counters and diagnostics; null when detection is off.
    /// </summary>
    public BlockingDetector? Detector { get; }

    /// <summary>Counters of what the scheduler did so far.</summary>
    public SchedulerStats Stats { get; } = new();

    internal Server[] Servers { get; }

    /// <summary>Metrics, events and tracing of this scheduler (see Umcg.Diagnostics).</summary>
    internal SchedulerTelemetry Telemetry { get; }

    internal int WorkerThreadCount => Volatile.Read(ref _workerThreads);

    /// <summary>Runs <paramref name="body"/> on a worker.</summary>
    /// <exception cref="InvalidOperationException">The scheduler is shutting down.</exception>
    /// <exception cref="UmcgThreadLimitException">The OS refused a new worker thread (the message names the limits); nothing of the body is left behind.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> break a rule of <see cref="OptionsValidation"/> (a server index that names no server, a stack size out of range, ...).</exception>
    public WorkerHandle Spawn(Action body, WorkerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        var item = new ActionWorkItem(body, Validate(options));
        DispatchOrThrow(item);
        return item.Handle;
    }

    /// <summary>Runs <paramref name="body"/> on a worker and keeps its result.</summary>
    /// <exception cref="InvalidOperationException">The scheduler is shutting down.</exception>
    /// <exception cref="UmcgThreadLimitException">The OS refused a new worker thread (the message names the limits); nothing of the body is left behind.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> break a rule of <see cref="OptionsValidation"/> (a server index that names no server, a stack size out of range, ...).</exception>
    public WorkerHandle<T> Spawn<T>(Func<T> body, WorkerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        var item = new FuncWorkItem<T>(body, Validate(options));
        DispatchOrThrow(item);
        return (WorkerHandle<T>)item.Handle;
    }

    /// <summary>
    /// Runs a callback posted through <see cref="SynchronizationContext"/> or <see cref="TaskScheduler"/>, which
    /// must never throw to its caller (often a thread-pool thread, where an exception ends the process): on a
    /// worker while the scheduler takes work, otherwise — after shutdown, or when the OS refuses a thread — on
    /// the .NET thread pool, counted in <see cref="SchedulerStats.LatePosts"/>. An exception of the callback goes
    /// to <see cref="UnhandledException"/>.
    /// </summary>
    internal void Post(Action callback, WorkerOptions options)
    {
        void Guarded()
        {
            try
            {
                callback();
            }
#pragma warning disable CA1031 // Nobody holds a handle to a posted callback: its exception goes to the fault channel.
            catch (Exception e)
            {
                ReportUnhandled(e);
            }
#pragma warning restore CA1031
        }

        bool accepted;
        try
        {
            accepted = TryDispatch(new ActionWorkItem(Guarded, options));
        }
        catch (UmcgThreadLimitException)
        {
            accepted = false;
        }

        if (!accepted)
        {
            Stats.CountLatePost();
            ThreadPool.UnsafeQueueUserWorkItem(static run => run(), (Action)Guarded, preferLocal: false);
        }
    }

    private WorkerOptions Validate(WorkerOptions? options)
    {
        options ??= WorkerOptions.Default;
        OptionsValidation.ThrowIfInvalid(options, Servers.Length);
        return options;
    }

    private void DispatchOrThrow(WorkItem item)
    {
        if (!TryDispatch(item))
        {
            throw new InvalidOperationException("The scheduler is shutting down and accepts no new work.");
        }
    }

    /// <summary>Hands <paramref name="item"/> to an idle or a new worker thread. False if the scheduler no longer accepts work.</summary>
    /// <exception cref="UmcgThreadLimitException">The OS refused a new thread; the item is forgotten as if never offered.</exception>
    private bool TryDispatch(WorkItem item)
    {
        // Checked and counted under the pool lock, so that shutdown, which clears _accepting under the same
        // lock, never sees the outstanding count reach zero while a body is being dispatched.
        lock (_poolLock)
        {
            if (!_accepting)
            {
                return false;
            }

            Interlocked.Increment(ref _outstanding);
        }

        var server = (item.Options.ServerAffinity ?? item.Options.PreferredServer) is int index ? Servers[index] : PlaceNew();
        int stack = item.Options.StackSize;

        WorkerThread? worker = null;
        lock (_poolLock)
        {
            if (_idle.TryGetValue(stack, out var pool) && pool.Count > 0)
            {
                worker = pool.Pop();
                _idleCount--;
            }
        }

        // Counted and announced before the body can run, so that a body's completion never precedes its spawn.
        Stats.CountSpawn();
        SchedulerTelemetry.Spawned(item.Options.Name, server, reused: worker is not null);
        if (worker is not null)
        {
            // Idle workers wait BLOCKED, so moving them to another server is allowed: the kernel half reads
            // server_tid when the worker leaves its blocking region.
            worker.MoveTo(server);
            worker.Assign(item);
            worker.Release(exit: false);
            Stats.CountReuse();
            return true;
        }

        StartWorkerThread(item, server, stack);
        return true;
    }

    /// <summary>
    /// Starts a new worker thread for <paramref name="item"/>. When the OS refuses the thread nothing is left
    /// half-registered: the thread was never counted as live, its block goes back to the spares, the body was
    /// never outstanding; every running worker is untouched.
    /// </summary>
    /// <exception cref="UmcgThreadLimitException">The OS refused the thread.</exception>
    private void StartWorkerThread(WorkItem item, Server server, int stack)
    {
        WorkerThread? worker = null;
        try
        {
            // The block (native memory) may be refused as well as the thread.
            worker = new WorkerThread(this, server, stack);
            worker.Assign(item);
            Interlocked.Increment(ref _workerThreads);
            worker.Start();
        }
        catch (Exception e) when (e is OutOfMemoryException or ThreadStartException)
        {
            // The thread never ran, so it registered nothing: undo our own counts in reverse order. The
            // decrements are the same steps an exiting thread and a finished body take, so a shutdown that began
            // meanwhile still completes.
            if (worker is not null)
            {
                worker.Item = null;
                OnWorkerThreadExited(worker);
            }

            OnItemDone(counted: false);
            Stats.UncountSpawn();
            Stats.CountThreadLimit();
            throw new UmcgThreadLimitException(e);
        }
    }

    /// <summary>Where a new body goes: an idle server first, else the shortest run queue (round robin among equals).</summary>
    private Server PlaceNew()
    {
        int start = (int)((uint)Interlocked.Increment(ref _placement) % (uint)Servers.Length);
        Server best = Servers[start];
        for (int i = 0; i < Servers.Length; i++)
        {
            var s = Servers[(start + i) % Servers.Length];
            if (s.IsIdle)
            {
                return s;
            }

            if (s.QueueLength < best.QueueLength)
            {
                best = s;
            }
        }

        return best;
    }

    internal unsafe TaskBlock RentBlock()
    {
        if (_spareBlocks.TryTake(out var block))
        {
            // Zeroed again: Ctl refuses a block with stale reserved fields or next_tid.
            *block.Task = default;
            return block;
        }

        block = TaskBlock.Allocate();
        _allBlocks.Add(block);
        return block;
    }

    private void ReturnBlock(TaskBlock block)
    {
        if (!block.IsRegistered)
        {
            _spareBlocks.Add(block);
        }
    }

    internal bool TryGetWorker(int tid, out WorkerThread worker) => _workersByTid.TryGetValue(tid, out worker!);

    internal void OnWorkerThreadStarting(WorkerThread worker)
    {
        _workersByTid[worker.Tid] = worker;

        // Before the thread first runs for a server, so that its switch records cover every run. RunStartNs
        // is stamped each time the worker comes back from a kernel-half call to run its own code.
        Detector?.AddWorker(worker.Tid, () => Volatile.Read(ref worker.RunStartNs));
    }

    internal void OnWorkerThreadFailedToRegister(WorkerThread worker, Exception error)
    {
        ReportFault(error);
        if (worker.Item is { } item)
        {
            Abandon(item, error);
        }

        OnWorkerThreadExited(worker);
    }

    internal void OnWorkerThreadExited(WorkerThread worker)
    {
        if (worker.Tid != 0)
        {
            _workersByTid.TryRemove(new KeyValuePair<int, WorkerThread>(worker.Tid, worker));
            Detector?.RemoveWorker(worker.Tid);
        }

        ReturnBlock(worker.Block);
        if (Interlocked.Decrement(ref _workerThreads) == 0)
        {
            OnLastWorkerThreadGone();
        }
    }

    /// <summary>Runs one body on the calling worker thread, with this scheduler's synchronization context. See <see cref="Finish"/>.</summary>
    /// <returns>False if the body was not run (shutdown canceled bodies that had not started).</returns>
    internal bool RunItem(WorkerThread worker, WorkItem item)
    {
        if (_cancelUnstarted)
        {
            return false;
        }

        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(SynchronizationContext);
        try
        {
            item.Run();
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
            worker.BlockingDepth = 0;
            if (WorkerThread.AbsorbPendingInterrupt())
            {
                Stats.CountAbsorbedInterrupt();
            }
        }

        return true;
    }

    /// <summary>Completes a body's handle (after its thread went back to the pool) and counts it done.</summary>
    internal void Finish(WorkItem item, bool ran)
    {
        Telemetry.Finishing();
        if (ran)
        {
            item.Publish();
        }
        else
        {
            item.Cancel();
        }

        SchedulerTelemetry.Completed(item.Handle);
        OnItemDone();
    }

    /// <summary>A body that will never run on its thread (the thread broke): its handle fails, the count goes on.</summary>
    internal void Abandon(WorkItem item, Exception error)
    {
        item.Fail(error);
        OnItemDone();
    }

    /// <param name="counted">False for a body that was never handed to a thread (its spawn failed): not a completion.</param>
    private void OnItemDone(bool counted = true)
    {
        if (counted)
        {
            Stats.CountCompletion();
        }

        if (Interlocked.Decrement(ref _outstanding) == 0)
        {
            OnDrained();
        }
    }

    /// <summary>A finished worker thread (already BLOCKED) offers itself for reuse. False: it should exit.</summary>
    internal bool ReturnToPool(WorkerThread worker)
    {
        lock (_poolLock)
        {
            if (!_accepting || _idleCount >= Options.MaxIdleWorkers)
            {
                return false;
            }

            if (!_idle.TryGetValue(worker.StackSize, out var pool))
            {
                pool = new Stack<WorkerThread>();
                _idle[worker.StackSize] = pool;
            }

            pool.Push(worker);
            _idleCount++;
            return true;
        }
    }

    internal int QueuedForTests(int server) => Servers[server].QueueLength;

    internal ServerCounters CountersForTests(int server) => Servers[server].Counters;

    internal int WorkerThreadCountForTests => WorkerThreadCount;

    /// <summary>Every thread the scheduler started and still knows (servers, and worker threads not yet exited).</summary>
    internal IEnumerable<Thread> ThreadsForTests() => Servers.Select(s => s.Thread).Concat(_workersByTid.Values.Select(w => w.Thread));
}
