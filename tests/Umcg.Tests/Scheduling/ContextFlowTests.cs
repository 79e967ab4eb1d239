namespace Umcg.Tests.Scheduling;

/// <summary>The caller's ExecutionContext flows into Spawn bodies, and not into UnsafeSpawn bodies.</summary>
public sealed class ContextFlowTests
{
    private static readonly AsyncLocal<string?> s_request = new();

    [Theory, BothParkers]
    public async Task AsyncLocal_and_Activity_set_before_Spawn_are_visible_in_the_body(string parker)
    {
        var scheduler = SchedulerFixture.Create(parker, servers: 1, new UmcgSchedulerOptions { MaxWorkers = 1 });
        using var gate = new Gate();
        using var activity = new Activity("request").Start();
        s_request.Value = "r-42";
        static (string?, string?) Seen() => (s_request.Value, Activity.Current?.Id);

        var plain = scheduler.Spawn(Seen);
        var withToken = scheduler.Spawn(_ => Seen(), CancellationToken.None);
        var action = scheduler.Spawn(() => Assert.Equal(("r-42", activity.Id), Seen()));
        var spawnedLater = await scheduler.SpawnAsync(Seen);
        SchedulerFixture.WaitAll(scheduler, plain, withToken, action, spawnedLater);

        // Captured at the spawn, not when a thread frees: a body queued behind a held thread still sees it.
        var holder = scheduler.Spawn(gate.Pass);
        var queued = scheduler.Spawn(Seen);
        Assert.Equal(1, scheduler.Stats.QueuedBodies);
        s_request.Value = "changed after the spawn";
        gate.Open();

        SchedulerFixture.WaitAll(scheduler, holder, queued);
        Assert.All(new[] { plain, withToken, spawnedLater, queued }, h => Assert.Equal(("r-42", activity.Id), h.Join()));
        action.Join();
        SchedulerFixture.Shutdown(scheduler);
    }

    [Theory, BothParkers]
    public void UnsafeSpawn_bodies_see_none_of_the_callers_context(string parker)
    {
        var scheduler = SchedulerFixture.Create(parker, servers: 1);
        using var activity = new Activity("request").Start();
        s_request.Value = "r-42";

        var unflowed = scheduler.UnsafeSpawn(() => (s_request.Value, Activity.Current?.Id));
        var withToken = scheduler.UnsafeSpawn(_ => (s_request.Value, Activity.Current?.Id), CancellationToken.None);
        SchedulerFixture.WaitAll(scheduler, unflowed, withToken);
        Assert.Equal((null, null), unflowed.Join());
        Assert.Equal((null, null), withToken.Join());
        SchedulerFixture.Shutdown(scheduler);
    }

    [Theory, BothParkers]
    public void Nothing_a_body_sets_in_its_context_reaches_the_next_body_on_the_same_thread(string parker)
    {
        var scheduler = SchedulerFixture.Create(parker, servers: 1);
        s_request.Value = null;

        // One after another on one server, so the second body reuses the first one's thread.
        var setter = scheduler.UnsafeSpawn(() =>
        {
            s_request.Value = "left behind";
            return Worker.Current!.Tid;
        });
        SchedulerFixture.WaitAll(scheduler, setter);
        var reader = scheduler.UnsafeSpawn(() => (Worker.Current!.Tid, s_request.Value));
        SchedulerFixture.WaitAll(scheduler, reader);

        Assert.Equal(setter.Join(), reader.Join().Tid);
        Assert.Null(reader.Join().Value);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Theory, BothParkers]
    public async Task An_await_in_a_body_keeps_its_context_while_posted_callbacks_capture_none(string parker)
    {
        var scheduler = SchedulerFixture.Create(parker, servers: 1);
        s_request.Value = "r-7";

        // The continuation after the await is posted to the scheduler's context and restores its own context.
        static async Task<(string?, bool)> Body()
        {
            await Task.Yield();
            return (s_request.Value, Worker.IsWorker);
        }

        var handle = scheduler.Spawn(Body);
        SchedulerFixture.WaitAll(scheduler, handle);
        var resumed = await handle;
        Watchdog.Wait(scheduler.Kernel, resumed, "the body's continuation");
        Assert.Equal(("r-7", true), await resumed);

        // A callback posted directly is not run in the poster's context: Post captures nothing of its own.
        var seen = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        scheduler.SynchronizationContext.Post(_ => seen.SetResult(s_request.Value), null);
        Watchdog.Wait(scheduler.Kernel, seen.Task, "the posted callback");
        Assert.Null(await seen.Task);
        SchedulerFixture.Shutdown(scheduler);
    }
}
