namespace Umcg.Tests.Threading;

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

    private BusyWorker(UmcgScheduler scheduler)
    {
        _scheduler = scheduler;
        _handle = scheduler.Spawn(Spin);
    }

    /// <summary>Starts a busy worker and returns once it runs. Use it when every other worker of the (single) server is parked.</summary>
    public static BusyWorker Occupy(UmcgScheduler scheduler)
    {
        var busy = new BusyWorker(scheduler);
        ThreadingFixture.Until(scheduler, () => Volatile.Read(ref busy._running) == 1, "the busy worker runs");
        return busy;
    }

    /// <summary>Lets the worker finish, and waits until it has given its CPU back.</summary>
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
