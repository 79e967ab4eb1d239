using System.Collections.Concurrent;
using Umcg.Diagnostics;
using Umcg.Kernel;
using Umcg.Kernel.Detection;
using Umcg.Scheduling.Demotion;
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
    private readonly Lock _poolLock = new();
    private readonly ConcurrentQueue<Exception> _faults = new();

    // Bodies spawned (admitted) and not yet completed, queued ones included, plus one while the scheduler accepts
    // work (so it can't reach 0 early).
    private int _outstanding = 1;
    private volatile bool _accepting = true;
    private volatile bool _cancelUnstarted;

    /// <summary>Starts the servers.</summary>
    /// <exception cref="PlatformNotSupportedException">Not Linux.</exception>
    /// <exception cref="UmcgThreadLimitException">The OS refused a server's (or the detector's) thread; nothing of the scheduler is left running.</exception>
    /// <exception cref="UmcgProtocolException">A server could not register with the kernel half; nothing of the scheduler is left running.</exception>
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
        Detection = new DetectionStatus(this);
        WorkerThreadName = $"{Options.Name} worker";
        Telemetry = new SchedulerTelemetry(this);

        // What the OS lets us do to an overstaying worker's thread, found by trying it once (docs/preemption.md).
        Demotion = Options.Demotion.Enabled ? new ThreadDemotion(Options.Demotion.Mechanism, () => OsSliceNs) : null;
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

        // Holds the process's contention (sampled while held) from here on: given back by AbortStart if a server fails
        // to start, else at shutdown.
        OsSlice = NewOsSliceGovernor(Options);
        _liveServers = count;
        int started = 0;
        try
        {
            // D1's alarm before any server runs: a server sets it as soon as it asks a give-way (Server.GraceAlarm.cs).
            if (Demotion is { Mode: not DemotionMode.Unavailable })
            {
                GraceAlarm = GraceAlarm.TryCreate(count, i => Servers[i].OnGraceAlarm());
            }

            foreach (var server in Servers)
            {
                server.Start();
                started++;
            }

            Telemetry.OnStarted();
            if (Options.Detection.Mode != BlockingDetection.None)
            {
                Detector = new BlockingDetector(Kernel, Options.Detection);
                if (Demotion is { Mode: not DemotionMode.Unavailable })
                {
                    Detector.MarkedWorkerRunsOn = LowerRunningOn;
                }

                foreach (var server in Servers)
                {
                    Detector.AddServer(server.Tid);
                }
            }
        }
        catch (Exception e)
        {
            AbortStart(started);
            if (e is ThreadStartException or OutOfMemoryException)
            {
                throw UmcgThreadLimitException.AtStart(e);
            }

            throw;
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
    /// The detection of unannounced blocking (see <see cref="UmcgSchedulerOptions.Detection"/>): the detectors that
    /// run, their counters and their fallbacks.
    /// </summary>
    public DetectionStatus Detection { get; }

    /// <summary>The detector this scheduler owns; null when detection is off. Only the scheduler registers with it.</summary>
    internal BlockingDetector? Detector { get; }

    /// <summary>Counters of what the scheduler did so far.</summary>
    public SchedulerStats Stats { get; }

    /// <summary>
    /// How this scheduler preempts a worker that reaches no safepoint (see <see cref="UmcgSchedulerOptions.Demotion"/>):
    /// <see cref="DemotionMode.Restorable"/>, <see cref="DemotionMode.OneWay"/> (a demoted thread runs on demoted and
    /// leaves the pool when its body ends), or <see cref="DemotionMode.Unavailable"/> (off, or refused by the OS).
    /// </summary>
    public DemotionMode DemotionMode => Demotion?.Mode ?? DemotionMode.Unavailable;

    /// <summary>Why <see cref="DemotionMode"/> is what it is, in the kernel's terms (what a host logs at start).</summary>
    public string DemotionReason => Demotion?.Reason ?? "turned off (UmcgSchedulerOptions.Demotion)";

    /// <summary>Demotes and restores worker threads; null when demotion is off.</summary>
    internal ThreadDemotion? Demotion { get; }

    /// <summary>
    /// Rings a server whose running worker's grace ran out (D1), so that the grace's end need not be in the server's
    /// own Wait; null without demotion or where the OS has no timer descriptors (then it is).
    /// </summary>
    internal GraceAlarm? GraceAlarm { get; private set; }

    /// <summary>The OS time slice servers and workers ask for now, in ns (see <see cref="UmcgSchedulerOptions.OsTimeSlice"/>); 0 for the OS's own.</summary>
    internal long OsSliceNs => OsSlice.CurrentNs;

    /// <summary>Decides <see cref="OsSliceNs"/> (see <see cref="UmcgSchedulerOptions.OsTimeSliceMode"/>).</summary>
    internal OsSliceGovernor OsSlice { get; }

    private static OsSliceGovernor NewOsSliceGovernor(UmcgSchedulerOptions options)
    {
        long asked = options.OsTimeSlice is { } slice ? (long)slice.TotalNanoseconds : 0;
        if (asked == 0 || options.OsTimeSliceMode != OsTimeSliceMode.WhenContended)
        {
            return new OsSliceGovernor(asked, contention: null, shared: false);
        }

        if (options.OthersCpuForTests is { } fake)
        {
            return new OsSliceGovernor(asked, new MachineContention(Environment.ProcessorCount, fake), shared: false);
        }

        return OperatingSystem.IsLinux()
            ? new OsSliceGovernor(asked, MachineContention.Acquire(), shared: true)
            : new OsSliceGovernor(asked, contention: null, shared: false);
    }

    internal Server[] Servers { get; }

    /// <summary>The worker threads' control blocks, recycled until every server has stopped.</summary>
    internal TaskBlockPool Blocks { get; } = new();

    /// <summary>Metrics, events and tracing of this scheduler (see Umcg.Diagnostics).</summary>
    internal SchedulerTelemetry Telemetry { get; }

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
            if (WorkerThread.YieldAfterBody())
            {
                Stats.CountAbsorbedInterrupt();
            }
        }

        return true;
    }

    /// <summary>Counts a body done, then completes its handle (after its thread went back to the pool).</summary>
    internal void Finish(WorkItem item, bool ran)
    {
        Telemetry.Finishing();

        // Counted before the handle completes: whoever sees the handle done finds it in Stats.Completed.
        Stats.CountCompletion();
        if (ran)
        {
            item.Publish();
        }
        else
        {
            item.CancelUnstarted();
        }

        Telemetry.Completed(item.Handle, ran);
        OnItemDone();
    }

    /// <summary>A body that will never run on its thread (the thread broke): counted done, its handle fails, the count goes on.</summary>
    internal void Abandon(WorkItem item, Exception error)
    {
        Stats.CountCompletion();
        item.Fail(error);
        OnItemDone();
    }

    /// <summary>
    /// A body is no longer outstanding (finished, or its spawn undone); the last one after shutdown began takes the next
    /// step. A finished body is counted in <see cref="SchedulerStats.Completed"/> by the caller, before its handle completes.
    /// </summary>
    private void OnItemDone()
    {
        if (Interlocked.Decrement(ref _outstanding) == 0)
        {
            OnDrained();
        }
    }
}
