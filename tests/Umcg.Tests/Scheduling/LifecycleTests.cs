namespace Umcg.Tests.Scheduling;

public sealed class LifecycleTests
{
    [Theory, BothParkers]
    public void Shutdown_drains_every_body_and_leaves_no_thread_behind(string parker)
    {
        var scheduler = SchedulerFixture.Create(parker, servers: 2);
        int ran = 0;
        var handles = Enumerable.Range(0, 50).Select(_ => scheduler.Spawn(() =>
        {
            Worker.Yield();
            Interlocked.Increment(ref ran);
        })).ToArray();

        SchedulerFixture.Shutdown(scheduler);
        scheduler.Dispose(); // also joins the server threads, which may still be returning when shutdown completes
        Assert.All(handles, h => Assert.True(h.Completion.IsCompletedSuccessfully));
        Assert.Equal(50, ran);
        Assert.Equal(0, scheduler.WorkerThreadCountForTests);
        Assert.Equal(0, scheduler.Kernel.TaskCount);
        Assert.All(scheduler.ThreadsForTests(), t => Assert.False(t.IsAlive, $"{t.Name} is still alive"));
    }

    [Fact]
    public void Canceling_shutdown_cancels_bodies_that_have_not_started()
    {
        var scheduler = SchedulerFixture.Create(servers: 1, options: SchedulerFixture.Undetected);

        // Holds the only server without a safepoint, so the rest stays queued.
        var holder = BusyWorker.Occupy(scheduler);
        var queued = Enumerable.Range(0, 5).Select(_ => scheduler.Spawn(() => { })).ToArray();

        using var cts = new CancellationTokenSource();
        var shutdown = scheduler.ShutdownAsync(cts.Token);
        cts.Cancel();
        holder.Release(); // the holder itself had started: it completes
        Watchdog.Wait(scheduler.Kernel, shutdown, "shutdown");

        Assert.All(queued, h => Assert.True(h.Completion.IsCanceled));
        Assert.Empty(scheduler.Faults);
    }

    [Fact]
    public void Disposing_from_a_worker_is_refused()
    {
        var scheduler = SchedulerFixture.Create(servers: 1);
        var h = scheduler.Spawn(scheduler.Dispose);
        SchedulerFixture.WaitAll(scheduler, h);
        Assert.Throws<InvalidOperationException>(h.Join);
        scheduler.Dispose();
        scheduler.Dispose(); // idempotent
    }
}
