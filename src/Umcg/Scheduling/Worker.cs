using Umcg.Abi;
using Umcg.Kernel;

namespace Umcg.Scheduling;

/// <summary>
/// What code running on a worker can ask of its scheduler. Every call is also a safepoint, where a pending
/// preemption takes effect. On a thread that is not a worker each call falls back to the ordinary blocking
/// behaviour (a blocking region does nothing, Sleep is <see cref="Thread.Sleep(TimeSpan)"/>, Yield is
/// <see cref="Thread.Yield"/>), so library code can call them from anywhere. Inside a blocking region a worker
/// holds no server, so there too Yield, Sleep and Safepoint are the plain thread's.
/// </summary>
public static unsafe class Worker
{
    /// <summary>The worker the caller runs on, or null for any other thread.</summary>
    public static WorkerThread? Current => Active();

    /// <summary>Whether the caller is a worker of some scheduler.</summary>
    public static bool IsWorker => Active() is not null;

    /// <summary>
    /// Marks a region of blocking code: entering it hands the caller's CPU to its server, which runs another
    /// worker; leaving it queues the caller to run again and waits until its server runs it.
    /// </summary>
    /// <example><code>using (Worker.Blocking()) { file.Read(buffer); }</code></example>
    /// <exception cref="UmcgProtocolException">The kernel half refused the transition (e.g. the worker's server is gone).</exception>
    public static BlockingRegion Blocking()
    {
        var w = Active();
        if (w is null)
        {
            return default;
        }

        if (w.BlockingDepth++ == 0)
        {
            w.OnStopping();
            var r = w.EnterBlocking();
            if (r != Errno.Ok)
            {
                w.BlockingDepth = 0;
                UmcgProtocolException.ThrowIfFailed(r, "enter blocking region");
            }

            w.Scheduler.Telemetry.Blocked(w);
        }

        return new BlockingRegion(w);
    }

    /// <summary>
    /// A safepoint: if the server asked this worker to give way (a time slice ran out, or a more urgent worker
    /// arrived), it goes back to the run queue here and returns when it runs again. Costs one load otherwise;
    /// call it in long CPU-bound loops so that preemption can reach them.
    /// </summary>
    public static void Safepoint()
    {
        var w = Scheduled();
        if (w is null)
        {
            return;
        }

        uint state = Volatile.Read(ref w.Block.Task->State) & (UmcgConstants.StateMask | UmcgConstants.FlagsMask);
        if (state != (uint)TaskState.Running)
        {
            SafepointSlow(w);
        }
    }

    private static void SafepointSlow(WorkerThread w)
    {
        // Asked to give way (a more urgent worker arrived, or a slice ran out): straight to the successor the policy
        // picks, as a yield does (H1–H4), instead of K5's trip through the server, which would only wake to pick that
        // same successor. The server's path if the policy still ranks us first, or for anything else (a mark, the
        // background).
        if (w.IsAskedToGiveWay && w.Yield(givingWay: true))
        {
            return;
        }

        w.OnStopping();
        bool blocked = StateWord.StateOf(w.Block.Task) == TaskState.Blocked;
        UmcgProtocolException.ThrowIfFailed(w.Kernel.NotifyResume(), "safepoint");
        w.Scheduler.Telemetry.ResumedAtSafepoint(w, wasBlocked: blocked);
        w.OnRunning();
    }

    /// <summary>Gives the CPU to the next runnable worker of this server (or keeps it if there is none).</summary>
    public static void Yield()
    {
        var w = Scheduled();
        if (w is null)
        {
            Thread.Yield();
            return;
        }

        w.Scheduler.Stats.CountYield();
        w.Yield();
    }

    /// <summary>
    /// Gives the CPU straight to <paramref name="target"/> when it waits RUNNABLE in the caller's server run
    /// queue: one worker→worker switch through next_tid, with no trip through the server. Otherwise (another
    /// server's worker, running, parked or blocked) it is a plain <see cref="Yield"/>. The caller stays runnable
    /// and runs again when its server picks it.
    /// </summary>
    /// <remarks>On a thread that is not a worker, or inside a blocking region, this is <see cref="Thread.Yield"/>.</remarks>
    /// <returns>True if the switch went straight to <paramref name="target"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="target"/> is null.</exception>
    public static bool SwitchTo(WorkerThread target)
    {
        ArgumentNullException.ThrowIfNull(target);
        var w = Scheduled();
        if (w is null)
        {
            Thread.Yield();
            return false;
        }

        w.Scheduler.Stats.CountYield();
        bool direct = !ReferenceEquals(target, w) && w.Server.TryTakeForSwitch(target);
        w.Yield(direct ? target : null);
        return direct;
    }

    /// <summary>
    /// Sleeps without holding a CPU: the worker is parked on its server, whose loop wakes it at the deadline
    /// (no timer thread involved).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative duration.</exception>
    public static void Sleep(TimeSpan duration)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(duration, TimeSpan.Zero);
        var w = Scheduled();
        if (w is null)
        {
            Thread.Sleep(duration);
            return;
        }

        w.Park(KernelClock.DeadlineAfter(ClockId.Monotonic, duration));
    }

    /// <summary>
    /// The caller's worker if it holds a server now: registered, and not inside a blocking region. Inside a
    /// region the worker is BLOCKED and its server runs someone else; it gets no CPU of the scheduler's to give
    /// up or to wait for until the region ends, so a yield, sleep or safepoint there is the plain thread's.
    /// </summary>
    internal static WorkerThread? Scheduled() => Active() is { BlockingDepth: 0 } w ? w : null;

    /// <summary>The caller's worker, if the caller is a worker still registered with its kernel half.</summary>
    internal static WorkerThread? Active()
    {
        var w = WorkerThread.Current;
        return w is not null && w.Kernel.IsWorkerThread ? w : null;
    }
}

/// <summary>A blocking region opened by <see cref="Worker.Blocking"/>; dispose it to leave.</summary>
public readonly struct BlockingRegion : IDisposable, IEquatable<BlockingRegion>
{
    private readonly WorkerThread? _worker;

    internal BlockingRegion(WorkerThread worker) => _worker = worker;

    /// <summary>Leaves the region: the worker queues on its server and returns once it runs again.</summary>
    /// <exception cref="UmcgProtocolException">The kernel half refused the transition.</exception>
    public void Dispose()
    {
        var w = _worker;
        if (w is null || w.BlockingDepth == 0 || --w.BlockingDepth != 0)
        {
            return;
        }

        w.MoveToIdleServerIfBusy();
        UmcgProtocolException.ThrowIfFailed(w.Kernel.SysExit(), "leave blocking region");
        w.Scheduler.Telemetry.Unblocked(w, byDetector: false);
        w.OnRunning();
    }

    /// <inheritdoc />
    public bool Equals(BlockingRegion other) => ReferenceEquals(_worker, other._worker);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is BlockingRegion other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => _worker?.GetHashCode() ?? 0;

    /// <summary>Equality of regions (same worker).</summary>
    public static bool operator ==(BlockingRegion left, BlockingRegion right) => left.Equals(right);

    /// <summary>Inequality of regions.</summary>
    public static bool operator !=(BlockingRegion left, BlockingRegion right) => !left.Equals(right);
}
