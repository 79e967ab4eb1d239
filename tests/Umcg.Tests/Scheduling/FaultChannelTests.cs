namespace Umcg.Tests.Scheduling;

/// <summary>Exceptions no handle carries (async void bodies, posted callbacks) are reported on the scheduler's fault channel.</summary>
public sealed class FaultChannelTests
{
    private sealed class BodyFailure(string message) : Exception(message);

    [Fact]
    public void An_async_void_body_that_throws_is_reported_with_its_worker()
    {
        var scheduler = SchedulerFixture.Create(servers: 2);
        var reports = new ConcurrentQueue<UmcgUnhandledExceptionEventArgs>();
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        const int Bodies = 20;
        scheduler.UnhandledException += (_, e) =>
        {
            reports.Enqueue(e);
            if (reports.Count == Bodies)
            {
                all.SetResult();
            }
        };

        var handles = Enumerable.Range(0, Bodies).Select(i =>
        {
            Action body = async () =>
            {
                await Task.Yield();
                throw new BodyFailure($"body {i}");
            };
            return scheduler.Spawn(body);
        }).ToArray();

        SchedulerFixture.WaitAll(scheduler, handles);
        Watchdog.Wait(scheduler.Kernel, all.Task, "every async void body's exception reported");
        Assert.All(reports, r =>
        {
            Assert.Equal(UmcgFaultSource.PostedCallback, r.Source);
            Assert.IsType<BodyFailure>(r.Exception);
            Assert.NotNull(r.Worker);
        });
        Assert.Equal(
            Enumerable.Range(0, Bodies).Select(i => $"body {i}").Order(),
            reports.Select(r => r.Exception.Message).Order());
        Assert.Equal(Bodies, scheduler.Stats.UnhandledExceptions);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public async Task A_posted_callback_that_throws_is_reported_and_a_throwing_handler_is_contained()
    {
        var scheduler = SchedulerFixture.Create(servers: 1);
        var reported = new TaskCompletionSource<UmcgUnhandledExceptionEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        scheduler.UnhandledException += (_, e) => reported.TrySetResult(e);
        scheduler.UnhandledException += (_, _) => throw new InvalidOperationException("a broken handler");

        scheduler.SynchronizationContext.Post(_ => throw new BodyFailure("posted"), null);
        Watchdog.Wait(scheduler.Kernel, reported.Task, "the posted callback's exception reported");
        Assert.Equal("posted", (await reported.Task).Exception.Message);

        // The broken handler is kept as a scheduler fault; the worker it ran on went on to run more work.
        Watchdog.Until(() => scheduler.Faults.Count > 0, scheduler.Kernel, "the broken handler recorded");
        var next = scheduler.Spawn(() => 1);
        SchedulerFixture.WaitAll(scheduler, next);
        Assert.Equal(1, next.Join());
        Watchdog.Wait(scheduler.Kernel, scheduler.ShutdownAsync(), "shutdown");
        Assert.Equal("a broken handler", Assert.Single(scheduler.Faults).InnerException?.Message);
    }
}
