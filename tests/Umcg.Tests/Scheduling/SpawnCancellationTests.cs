namespace Umcg.Tests.Scheduling;

/// <summary>A token cancels a body until it starts (it never runs); a running body sees the token and may stop.</summary>
public sealed class SpawnCancellationTests
{
    [Theory, BothParkers]
    public async Task A_token_canceled_before_the_spawn_gives_a_canceled_handle_and_the_body_never_runs(string parker)
    {
        var scheduler = SchedulerFixture.Create(parker, servers: 1);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        int ran = 0;

        var action = scheduler.Spawn(() => { Interlocked.Increment(ref ran); }, cts.Token);
        var func = scheduler.Spawn(ct => Interlocked.Increment(ref ran), cts.Token);
        var later = scheduler.SpawnAsync(() => { Interlocked.Increment(ref ran); }, cts.Token);
        Assert.True(later.IsCompleted);
        var asyncHandle = await later;

        SchedulerFixture.WaitAll(scheduler, action, func, asyncHandle);
        Assert.All(new WorkerHandle[] { action, func, asyncHandle }, h => Assert.True(h.Completion.IsCanceled));
        Assert.Throws<TaskCanceledException>(() => func.Join());
        Assert.Equal(0, ran);
        Assert.Equal(3, scheduler.Stats.CanceledBeforeStart);
        Assert.Equal(0, scheduler.Stats.Spawned);
        SchedulerFixture.Shutdown(scheduler);
        Assert.Equal(0, ran);
    }

    [Theory, BothParkers]
    public void Canceling_a_queued_body_completes_its_handle_at_once_and_it_never_runs(string parker)
    {
        var scheduler = SchedulerFixture.Create(parker, servers: 1, new UmcgSchedulerOptions { MaxWorkers = 1 });
        using var gate = new Gate();
        using var cts = new CancellationTokenSource();
        int ran = 0;

        // The only worker thread waits at the gate, so the next bodies queue for it.
        var holder = scheduler.Spawn(gate.Pass);
        var canceled = scheduler.Spawn(() => { Interlocked.Increment(ref ran); }, cts.Token);
        var kept = scheduler.Spawn(() => Interlocked.Increment(ref ran));
        Assert.Equal(2, scheduler.Stats.QueuedBodies);

        // While the thread is still held: only the removal from the queue can complete the handle now.
        cts.Cancel();
        SchedulerFixture.WaitAll(scheduler, canceled);
        Assert.True(canceled.Completion.IsCanceled);
        Assert.Equal(1, scheduler.Stats.QueuedBodies);
        Assert.False(holder.IsCompleted);

        gate.Open();
        SchedulerFixture.WaitAll(scheduler, holder, kept);
        Assert.Equal(1, kept.Join());
        Assert.Equal(1, ran);
        Assert.Equal(1, scheduler.Stats.CanceledBeforeStart);
        Assert.Equal(3, scheduler.Stats.Spawned);
        Assert.Equal(3, scheduler.Stats.Completed);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Theory, BothParkers]
    public void A_running_body_sees_its_token_and_stops_when_it_is_canceled(string parker)
    {
        var scheduler = SchedulerFixture.Create(parker, servers: 1);
        using var cts = new CancellationTokenSource();
        int started = 0;

        var observed = scheduler.Spawn(
            ct =>
            {
                Interlocked.Increment(ref started);
                using (Worker.Blocking())
                {
                    ct.WaitHandle.WaitOne();
                }

                return ct.IsCancellationRequested;
            },
            cts.Token);
        var thrown = scheduler.Spawn(
            ct =>
            {
                Interlocked.Increment(ref started);
                using (Worker.Blocking())
                {
                    ct.WaitHandle.WaitOne();
                }

                ct.ThrowIfCancellationRequested();
            },
            cts.Token);

        Watchdog.Until(() => Volatile.Read(ref started) == 2, scheduler.Kernel, "both bodies run");
        Assert.False(observed.IsCompleted);
        cts.Cancel();
        SchedulerFixture.WaitAll(scheduler, observed, thrown);
        Assert.True(observed.Join());
        Assert.True(thrown.Completion.IsCanceled);
        Assert.Equal(0, scheduler.Stats.CanceledBeforeStart);
        SchedulerFixture.Shutdown(scheduler);
    }
}
