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

    // Idle pooled threads, under _poolLock; a finished thread pools itself only while no body waits for a thread.
    private int _idleCount;
    private int _placement;

    // Bodies spawned (admitted) and not yet completed, queued ones included, plus one while the scheduler accepts
    // work (so it can't reach 0 early).
    private int _outstanding = 1;

    // Worker threads that hold a slot: decided on (under _poolLock) and not yet gone, whatever they do meanwhile.
    // Never above Options.MaxWorkers (see UmcgScheduler.Admission.cs).
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
        Stats = new SchedulerStats(this);
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
    public SchedulerStats Stats { get; }

    internal Server[] Servers { get; }

    /// <summary>Metrics, events and tracing of this scheduler (see Umcg.Diagnostics).</summary>
    internal SchedulerTelemetry Telemetry { get; }

    internal int WorkerThreadCount => Volatile.Read(ref _workerThreads);

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
        ReleaseSlot();
    }

    /// <summary>Runs one body on the calling worker thread, with this scheduler's synchronization context. See <see cref="Finish"/>.</summary>
    /// <returns>False if the body was not run: its token, or a shutdown with cancellation, canceled it before it started.</returns>
    internal bool RunItem(WorkerThread worker, WorkItem item)
    {
        if (_cancelUnstarted || item.Token.IsCancellationRequested)
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
            worker.RestoreOwnExecutionContext();
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
            item.CancelUnstarted();
            Stats.CountCanceledBeforeStart();
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

    internal int QueuedForTests(int server) => Servers[server].QueueLength;

    internal ServerCounters CountersForTests(int server) => Servers[server].Counters;

    internal int WorkerThreadCountForTests => WorkerThreadCount;

    /// <summary>Every thread the scheduler started and still knows (servers, and worker threads not yet exited).</summary>
    internal IEnumerable<Thread> ThreadsForTests() => Servers.Select(s => s.Thread).Concat(_workersByTid.Values.Select(w => w.Thread));
}
