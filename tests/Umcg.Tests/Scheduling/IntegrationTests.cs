namespace Umcg.Tests.Scheduling;

public sealed class IntegrationTests
{
    [Fact]
    public async Task Tasks_started_on_the_task_scheduler_run_on_workers()
    {
        var scheduler = SchedulerFixture.Create(servers: 2);
        var onWorker = await Task.Factory.StartNew(
            () => Worker.IsWorker, CancellationToken.None, TaskCreationOptions.None, scheduler.TaskScheduler);
        Assert.True(onWorker);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public async Task Await_continuations_come_back_to_a_worker()
    {
        var scheduler = SchedulerFixture.Create(servers: 2);
        var inner = await Task.Factory.StartNew(
            async () =>
            {
                bool before = Worker.IsWorker;
                await Task.Delay(1).ConfigureAwait(true);
                return before && Worker.IsWorker;
            },
            CancellationToken.None, TaskCreationOptions.None, scheduler.TaskScheduler);
        Assert.True(await inner);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public async Task The_synchronization_context_posts_to_workers_and_is_current_in_bodies()
    {
        var scheduler = SchedulerFixture.Create(servers: 1);
        var context = await scheduler.Spawn(() => SynchronizationContext.Current);
        Assert.Same(scheduler.SynchronizationContext, context);

        var posted = new TaskCompletionSource<bool>();
        scheduler.SynchronizationContext.Post(_ => posted.SetResult(Worker.IsWorker), null);
        Assert.True(await posted.Task);

        bool sent = false;
        scheduler.SynchronizationContext.Send(_ => sent = Worker.IsWorker, null);
        Assert.True(sent);
        SchedulerFixture.Shutdown(scheduler);
    }
}
