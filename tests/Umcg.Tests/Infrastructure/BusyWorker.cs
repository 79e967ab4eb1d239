namespace Umcg.Tests.Infrastructure;

/// <summary>
/// A worker that keeps its server's CPU until released: it spins without a safepoint, so a worker made runnable
/// on that server meanwhile waits in the run queue. A test can then act between a wake and the woken worker's
/// first step, in an order it controls instead of one it hopes for.
/// </summary>
internal sealed class BusyWorker
{
    private readonly UmcgScheduler _scheduler;
    private readonly WorkerHandle _handle;
    private int _running;
    private int _released;

    private BusyWorker(UmcgScheduler scheduler, WorkerOptions? options)
    {
        _scheduler = scheduler;
        _handle = scheduler.Spawn(Spin, options);
    }

    /// <summary>
    /// Starts a busy worker (with <paramref name="options"/>, e.g. a priority) and returns once it runs. Use it when
    /// every other worker of the (single) server is parked or not yet spawned: what is spawned meanwhile stays queued.
    /// The scheduler must run without a detector (<see cref="SchedulerFixture.Undetected"/>): on a loaded machine
    /// the spinning thread is at times stopped in the kernel (a GC suspension, a page fault) long enough for a
    /// detector to mark it blocked, which frees its server and lets the queued workers run.
    /// </summary>
    public static BusyWorker Occupy(UmcgScheduler scheduler, WorkerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(scheduler);
        if (scheduler.Detector is not null)
        {
            throw new InvalidOperationException("A busy worker holds its server only without a detector: create the scheduler with SchedulerFixture.Undetected.");
        }

        var busy = new BusyWorker(scheduler, options);
        Watchdog.Until(() => Volatile.Read(ref busy._running) == 1, scheduler.Kernel, "the busy worker runs");
        return busy;
    }

    /// <summary>Lets the worker finish, and waits until it has given its CPU back; rethrows if its body failed.</summary>
    public void Release()
    {
        Volatile.Write(ref _released, 1);
        SchedulerFixture.WaitAll(_scheduler, _handle);
        _handle.Join();
    }

    private void Spin()
    {
        Volatile.Write(ref _running, 1);
        while (Volatile.Read(ref _released) == 0)
        {
            Thread.SpinWait(20);
        }
    }
}
