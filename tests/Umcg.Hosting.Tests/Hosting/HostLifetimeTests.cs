using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Umcg.Kernel;
using Umcg.Kernel.Detection;
using Umcg.Kernel.Parking;

namespace Umcg.Hosting.Tests.Hosting;

public sealed class HostLifetimeTests
{
    [Fact]
    public async Task Stopping_waits_for_a_running_body_to_finish()
    {
        using var host = TestHosts.Build(TestHosts.Settings());
        await host.StartAsync();
        var scheduler = host.Services.GetRequiredService<UmcgScheduler>();
        using var gate = new Gate();
        bool finished = false;
        var body = scheduler.Spawn(() =>
        {
            gate.Hold();
            finished = true;
        });
        await Watchdog.Signaled(gate.Entered, scheduler, "body start");

        var stop = host.StopAsync();
        Assert.False(stop.IsCompleted, "the host stopped while a body was still running");
        gate.Release.Set();
        await Watchdog.Within(stop, scheduler, "host stop after the body ends");
        Assert.True(finished);
        Assert.True(body.Completion.IsCompletedSuccessfully);
        Assert.Throws<InvalidOperationException>(() => scheduler.Spawn(() => { }));
    }

    [Fact]
    public async Task When_the_shutdown_token_fires_queued_bodies_are_canceled_and_running_ones_see_the_token()
    {
        var logs = new LogCapture();
        using var host = TestHosts.Build(TestHosts.Settings(("Umcg:MaxWorkers", "1")), logs);
        await host.StartAsync();
        var umcg = host.Services.GetRequiredService<UmcgHost>();
        var scheduler = umcg.Scheduler;
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var exit = new CancellationTokenSource();
        using var releaseOnExit = new OnDispose(exit.Cancel);
        var running = scheduler.Spawn(token =>
        {
            started.SetResult();
            using (Worker.Blocking())
            {
                WaitHandle.WaitAny([token.WaitHandle, exit.Token.WaitHandle]);
            }

            token.ThrowIfCancellationRequested();
        }, umcg.ShutdownToken);
        await Watchdog.Signaled(started, scheduler, "first body start");

        // The only worker thread is held: this one waits in the queue.
        bool queuedRan = false;
        var queued = scheduler.Spawn(() => queuedRan = true);
        Assert.Equal(1, scheduler.Stats.QueuedBodies);

        // The host logs the timeout right after it cancels the running body, maybe inside the shutdown token's own
        // callbacks. Holding it there until the queued body is done (run or canceled) gives the freed worker thread
        // every chance to take that body before anything else the token's callbacks do: it must still not run.
        logs.OnEntry = e =>
        {
            if (e.Message.Contains("shutdown timeout", StringComparison.Ordinal))
            {
                ((IAsyncResult)queued.Completion).AsyncWaitHandle.WaitOne(Watchdog.Limit);
            }
        };

        using var shutdown = new CancellationTokenSource();
        var stop = host.StopAsync(shutdown.Token);
        Assert.False(stop.IsCompleted, "the host stopped while a body was still running");
        Assert.False(umcg.ShutdownToken.IsCancellationRequested);

        shutdown.Cancel();
        await Watchdog.Within(stop, scheduler, "host stop once the shutdown token fired");
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Watchdog.Within(running.Completion, scheduler, "the running body, canceled"));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Watchdog.Within(queued.Completion, scheduler, "the queued body, canceled"));
        Assert.False(queuedRan);
        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("shutdown timeout", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Faults_nobody_else_observes_are_logged_as_errors()
    {
        var logs = new LogCapture();
        using var host = TestHosts.Build(TestHosts.Settings(), logs);
        await host.StartAsync();
        var scheduler = host.Services.GetRequiredService<UmcgScheduler>();
        var error = new InvalidOperationException("posted callback failed");
        var logged = logs.WaitFor(e => ReferenceEquals(e.Exception, error));

        scheduler.SynchronizationContext.Post(_ => throw error, null);

        var entry = await Watchdog.Within(logged, scheduler, "the fault's log entry");
        Assert.Equal(LogLevel.Error, entry.Level);
        Assert.Contains("PostedCallback", entry.Message, StringComparison.Ordinal);
        await Watchdog.Within(host.StopAsync(), scheduler, "host stop");
    }

    [Fact]
    public async Task A_detector_that_falls_back_is_logged_as_a_warning()
    {
        var logs = new LogCapture();

        // The monitor parker cannot tell a worker's own wait from blocking: the detector turns itself off and says why.
        using var host = TestHosts.Build(
            TestHosts.Settings(("Umcg:Detection", "Monitor")),
            logs,
            o => o.Customize = s => s with { Kernel = new UmcgKernel(MonitorParker.Instance) });
        await host.StartAsync();
        var scheduler = host.Services.GetRequiredService<UmcgScheduler>();
        Assert.Equal(BlockingDetection.None, scheduler.Detection.ActiveMode);
        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("futex parker", StringComparison.Ordinal));
        await Watchdog.Within(host.StopAsync(), scheduler, "host stop");
    }
}
