namespace Umcg.Tests.Scheduling;

/// <summary>Callbacks and tasks that reach a scheduler after its shutdown run on the thread pool; nothing throws.</summary>
public sealed class LatePostTests
{
    [Fact]
    public async Task A_callback_posted_after_shutdown_runs_on_the_thread_pool()
    {
        var scheduler = SchedulerFixture.Create(servers: 1);
        var context = scheduler.SynchronizationContext;
        SchedulerFixture.Shutdown(scheduler);

        var ran = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        context.Post(_ => ran.SetResult(Thread.CurrentThread.IsThreadPoolThread), null);
        Watchdog.Wait(scheduler.Kernel, ran.Task, "the late callback");
        Assert.True(await ran.Task);

        var task = Task.Factory.StartNew(() => Worker.IsWorker, CancellationToken.None, TaskCreationOptions.None, scheduler.TaskScheduler);
        Watchdog.Wait(scheduler.Kernel, task, "the late task");
        Assert.False(await task);
        Assert.Equal(2, scheduler.Stats.LatePosts);
    }

    [Fact]
    public async Task An_await_continuation_arriving_after_shutdown_runs_and_the_process_lives()
    {
        var scheduler = SchedulerFixture.Create(servers: 1);
        var gate = new TaskCompletionSource();
        var resumed = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);

        // The body returns at its await; the continuation is posted to the scheduler's context when the gate opens.
        Action body = async () =>
        {
            await gate.Task;
            resumed.SetResult(Worker.IsWorker);
        };
        SchedulerFixture.WaitAll(scheduler, scheduler.Spawn(body));
        SchedulerFixture.Shutdown(scheduler);

        // Opened on a thread-pool thread, which runs the continuation's Post: an exception there ends the process.
        Watchdog.Wait(scheduler.Kernel, Task.Run(gate.SetResult), "opening the gate");
        Watchdog.Wait(scheduler.Kernel, resumed.Task, "the continuation after shutdown");
        Assert.False(await resumed.Task);
        Assert.Equal(1, scheduler.Stats.LatePosts);
    }
}
