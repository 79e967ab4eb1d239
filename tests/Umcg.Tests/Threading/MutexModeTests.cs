namespace Umcg.Tests.Threading;

/// <summary>
/// <see cref="MutexHandOff.Barging"/>'s own behaviour: barging past a woken waiter, the fall-back to FIFO
/// hand-off for a waiter that waited too long, and timeouts and cancellation of a woken waiter (what both modes
/// share is in <see cref="MutexTests"/> and <see cref="ConditionTests"/>, as theories over the mode). Orders are
/// observed with a single server kept busy (<see cref="BusyWorker"/>), so that a woken worker cannot run until the
/// test lets it.
/// </summary>
[Collection(ThreadingStress.Name)]
public sealed class MutexModeTests
{
    [Fact]
    public void The_default_is_fifo_hand_off_and_undefined_modes_are_refused()
    {
        Assert.Equal(MutexHandOff.Fifo, new UmcgMutex().HandOff);
        Assert.Equal(MutexHandOff.Barging, new UmcgMutex(MutexHandOff.Barging).HandOff);
        Assert.Throws<ArgumentOutOfRangeException>(() => new UmcgMutex((MutexHandOff)7));
    }

    [Fact]
    public void A_running_newcomer_takes_the_lock_ahead_of_a_woken_waiter_that_has_not_run_yet()
    {
        var scheduler = SchedulerFixture.Create(servers: 1, options: SchedulerFixture.Undetected);
        var mutex = new UmcgMutex(MutexHandOff.Barging) { StarvationThreshold = TimeSpan.FromHours(1) };
        var order = new ConcurrentQueue<string>();

        mutex.Lock(); // the test thread holds the lock, and is the newcomer later
        var waiter = scheduler.Spawn(() =>
        {
            mutex.Lock();
            order.Enqueue("waiter");
            mutex.Unlock();
        });
        ThreadingFixture.Until(scheduler, () => mutex.WaitersForTests == 1, "the worker queues");

        var busy = BusyWorker.Occupy(scheduler);
        mutex.Unlock(); // releases, and wakes the waiter, which cannot run yet
        Assert.Equal(0, mutex.WaitersForTests);
        Assert.False(mutex.IsHeld);
        Assert.True(mutex.TryLock(), "a newcomer barges in while the woken waiter waits for a CPU");
        order.Enqueue("newcomer");

        // The waiter runs, loses, and queues again; it has not waited past the (long) threshold.
        busy.Release();
        ThreadingFixture.Until(scheduler, () => mutex.WaitersForTests == 1, "the woken waiter loses and queues again");
        Assert.False(mutex.IsStarvingForTests);

        busy = BusyWorker.Occupy(scheduler);
        mutex.Unlock(); // still normal mode: wakes it again
        Assert.True(mutex.TryLock(), "the newcomer barges in again");
        order.Enqueue("newcomer");
        mutex.Unlock();

        busy.Release();
        SchedulerFixture.WaitAll(scheduler, waiter);
        waiter.Join();
        Assert.Equal(["newcomer", "newcomer", "waiter"], order);
        Assert.False(mutex.IsHeld);
        SchedulerFixture.Shutdown(scheduler);
    }

    /// <param name="threshold">"zero": any wait is too long; "default": the real threshold, waited out before the waiter retries.</param>
    [Theory]
    [InlineData("zero")]
    [InlineData("default")]
    public void A_waiter_that_waited_past_the_threshold_gets_the_lock_before_newcomers(string threshold)
    {
        var scheduler = SchedulerFixture.Create(servers: 1, options: SchedulerFixture.Undetected);
        var mutex = new UmcgMutex(MutexHandOff.Barging);
        if (threshold == "zero")
        {
            mutex.StarvationThreshold = TimeSpan.Zero;
        }

        var order = new ConcurrentQueue<string>();
        mutex.Lock();
        var waiter = scheduler.Spawn(() =>
        {
            mutex.Lock();
            order.Enqueue("waiter");
            mutex.Unlock();
        });
        ThreadingFixture.Until(scheduler, () => mutex.WaitersForTests == 1, "the worker queues");
        long queued = Stopwatch.GetTimestamp();

        // Normal mode first: the woken waiter loses to the running newcomer.
        var busy = BusyWorker.Occupy(scheduler);
        mutex.Unlock();
        Assert.True(mutex.TryLock(), "normal mode: a newcomer barges in");
        if (threshold == "default")
        {
            // A precondition, not a measurement: the waiter's wait must exceed the threshold before it retries.
            ThreadingFixture.Until(scheduler, () => Stopwatch.GetElapsedTime(queued) > mutex.StarvationThreshold, "the waiter has waited past the threshold");
        }

        busy.Release();
        ThreadingFixture.Until(scheduler, () => mutex.WaitersForTests == 1, "the woken waiter loses and queues again");
        Assert.True(mutex.IsStarvingForTests, "a waiter that lost after waiting too long switches to starvation mode");

        // Starvation mode: the unlock hands the lock to the waiter, which still cannot run, and newcomers queue.
        busy = BusyWorker.Occupy(scheduler);
        mutex.Unlock();
        Assert.True(mutex.IsHeld);
        Assert.False(mutex.IsHeldByCurrentThread);
        Assert.False(mutex.TryLock(), "starvation mode: no newcomer barges in");
        Assert.False(mutex.IsStarvingForTests, "the queue drained, so starvation mode ended");
        var newcomer = ThreadingFixture.OnPlainThread(() =>
        {
            mutex.Lock();
            order.Enqueue("newcomer");
            mutex.Unlock();
        });
        ThreadingFixture.Until(scheduler, () => mutex.WaitersForTests == 1, "the newcomer queues behind the owner");

        busy.Release();
        SchedulerFixture.WaitAll(scheduler, waiter);
        waiter.Join();
        ThreadingFixture.Finish(scheduler, newcomer, "the newcomer");
        ThreadingFixture.ThrowIfFailed(newcomer);
        Assert.Equal(["waiter", "newcomer"], order);
        Assert.False(mutex.IsHeld);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void A_waiter_woken_on_the_unlockers_server_runs_before_the_rest_of_its_run_queue()
    {
        var scheduler = SchedulerFixture.Create(servers: 1, options: SchedulerFixture.Undetected);
        var mutex = new UmcgMutex(MutexHandOff.Barging);
        var order = new ConcurrentQueue<string>();
        var holderGo = new UmcgSemaphore(0);
        var othersGo = new UmcgSemaphore(0);
        var holderDone = new UmcgSemaphore(0);

        var holder = scheduler.Spawn(() =>
        {
            mutex.Lock();
            holderGo.Wait();
            mutex.Unlock();    // wakes the waiter onto this server's run queue, behind the others
            holderDone.Wait(); // leaves the CPU: the woken waiter runs first
        });
        ThreadingFixture.Until(scheduler, () => mutex.IsHeld && holderGo.WaitersForTests == 1, "the holder locks and waits");
        var waiter = scheduler.Spawn(() =>
        {
            mutex.Lock();
            order.Enqueue("waiter");
            mutex.Unlock();
        });
        ThreadingFixture.Until(scheduler, () => mutex.WaitersForTests == 1, "the waiter queues");
        var others = Enumerable.Range(0, 3).Select(_ => scheduler.Spawn(() =>
        {
            othersGo.Wait();
            order.Enqueue("other");
        })).ToArray();
        ThreadingFixture.Until(scheduler, () => othersGo.WaitersForTests == 3, "the others wait");

        // Runnable in this order while the server is busy: the holder, then the others.
        var busy = BusyWorker.Occupy(scheduler);
        holderGo.Release();
        othersGo.Release(3);
        busy.Release();

        SchedulerFixture.WaitAll(scheduler, [waiter, .. others]);
        holderDone.Release();
        SchedulerFixture.WaitAll(scheduler, holder);
        Assert.Equal(["waiter", "other", "other", "other"], order);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void A_starving_waiter_that_is_canceled_ends_starvation_mode()
    {
        var scheduler = SchedulerFixture.Create(servers: 1, options: SchedulerFixture.Undetected);
        var mutex = new UmcgMutex(MutexHandOff.Barging) { StarvationThreshold = TimeSpan.Zero };
        using var cts = new CancellationTokenSource();

        mutex.Lock();
        var waiter = scheduler.Spawn(() => mutex.Lock(cts.Token));
        ThreadingFixture.Until(scheduler, () => mutex.WaitersForTests == 1, "the worker queues");
        var busy = BusyWorker.Occupy(scheduler);
        mutex.Unlock();
        Assert.True(mutex.TryLock());
        busy.Release();
        ThreadingFixture.Until(scheduler, () => mutex.WaitersForTests == 1, "the woken waiter loses and queues again");
        Assert.True(mutex.IsStarvingForTests);

        cts.Cancel();
        SchedulerFixture.WaitAll(scheduler, waiter);
        ThreadingFixture.AssertCanceled(waiter.Completion);
        Assert.Equal(0, mutex.WaitersForTests);
        Assert.False(mutex.IsStarvingForTests);

        // Nobody waits: the owner's release is the plain one again, and the lock is free for anyone.
        mutex.Unlock();
        Assert.False(mutex.IsHeld);
        Assert.True(mutex.TryLock());
        mutex.Unlock();
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void A_woken_waiter_whose_timeout_passed_before_it_ran_gives_up_and_the_next_waiter_is_still_woken()
    {
        var timeout = TimeSpan.FromSeconds(2);
        var scheduler = SchedulerFixture.Create(servers: 1, options: SchedulerFixture.Undetected);
        var mutex = new UmcgMutex(MutexHandOff.Barging) { StarvationThreshold = TimeSpan.FromHours(1) };
        bool got = true;

        mutex.Lock();
        var timed = scheduler.Spawn(() => got = mutex.TryLock(timeout));
        ThreadingFixture.Until(scheduler, () => mutex.WaitersForTests == 1, "the timed waiter queues");
        long queued = Stopwatch.GetTimestamp();
        var next = QueueSecondWaiter(scheduler, mutex);

        var busy = BusyWorker.Occupy(scheduler);
        mutex.Unlock(); // wakes the timed waiter, which cannot run yet
        Assert.Equal(1, mutex.WaitersForTests);
        Assert.True(mutex.TryLock());

        // A precondition: the timed waiter's deadline passes while it is woken but not yet running.
        ThreadingFixture.Until(scheduler, () => Stopwatch.GetElapsedTime(queued) > timeout, "the timed waiter's deadline passes");
        busy.Release();
        SchedulerFixture.WaitAll(scheduler, timed);
        timed.Join();
        Assert.False(got);
        UnlockWakesTheNextWaiter(scheduler, mutex, next);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void A_woken_waiter_canceled_before_it_ran_throws_and_the_next_waiter_is_still_woken()
    {
        var scheduler = SchedulerFixture.Create(servers: 1, options: SchedulerFixture.Undetected);
        var mutex = new UmcgMutex(MutexHandOff.Barging) { StarvationThreshold = TimeSpan.FromHours(1) };
        using var cts = new CancellationTokenSource();

        mutex.Lock();
        var canceled = scheduler.Spawn(() => mutex.Lock(cts.Token));
        ThreadingFixture.Until(scheduler, () => mutex.WaitersForTests == 1, "the cancelable waiter queues");
        var next = QueueSecondWaiter(scheduler, mutex);

        var busy = BusyWorker.Occupy(scheduler);
        mutex.Unlock(); // wakes the cancelable waiter, which cannot run yet
        Assert.True(mutex.TryLock());
        cts.Cancel();
        busy.Release();
        SchedulerFixture.WaitAll(scheduler, canceled);
        ThreadingFixture.AssertCanceled(canceled.Completion);
        UnlockWakesTheNextWaiter(scheduler, mutex, next);
        SchedulerFixture.Shutdown(scheduler);
    }

    /// <summary>Spawns a worker that locks and unlocks once; returns once it has queued behind the one waiter already there.</summary>
    private static WorkerHandle QueueSecondWaiter(UmcgScheduler scheduler, UmcgMutex mutex)
    {
        var next = scheduler.Spawn(() =>
        {
            mutex.Lock();
            mutex.Unlock();
        });
        ThreadingFixture.Until(scheduler, () => mutex.WaitersForTests == 2, "the next waiter queues");
        return next;
    }

    /// <summary>
    /// With the woken waiter gone (it gave up or was canceled) and only <paramref name="next"/> queued, unlocks the
    /// mutex the test holds: the woken waiter gave its wake back, so this unlock must wake the next waiter, or the
    /// next waiter hangs.
    /// </summary>
    private static void UnlockWakesTheNextWaiter(UmcgScheduler scheduler, UmcgMutex mutex, WorkerHandle next)
    {
        Assert.Equal(1, mutex.WaitersForTests);
        mutex.Unlock();
        SchedulerFixture.WaitAll(scheduler, next);
        next.Join();
        Assert.False(mutex.IsHeld);
    }
}
