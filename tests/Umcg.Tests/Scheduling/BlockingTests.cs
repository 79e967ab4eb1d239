namespace Umcg.Tests.Scheduling;

public sealed class BlockingTests
{
    [Theory, BothParkers]
    public void A_worker_blocked_in_a_region_hands_its_server_to_another_worker(string parker)
    {
        // One server: if the blocked worker kept the CPU, the worker that releases it could never run.
        var scheduler = SchedulerFixture.Create(parker, servers: 1);
        using var gate = new ManualResetEventSlim();
        int blockedOnServer = -1;
        var waiter = scheduler.Spawn(() =>
        {
            using (Worker.Blocking())
            {
                gate.Wait();
            }

            blockedOnServer = Worker.Current!.ServerIndex;
        });
        var releaser = scheduler.Spawn(gate.Set);
        SchedulerFixture.WaitAll(scheduler, waiter, releaser);
        waiter.Join();
        Assert.Equal(0, blockedOnServer);
        Assert.True(scheduler.Stats.Blocks >= 1);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void Nested_blocking_regions_enter_and_leave_once()
    {
        var scheduler = SchedulerFixture.Create(servers: 1);
        var h = scheduler.Spawn(() =>
        {
            using (Worker.Blocking())
            {
                using (Worker.Blocking())
                {
                }
            }

            return Worker.Current!.BlockingDepthForTests;
        });
        SchedulerFixture.WaitAll(scheduler, h);
        Assert.Equal(0, h.Join());
        Assert.Equal(1, scheduler.Stats.Blocks);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Theory, BothParkers]
    public void Yield_sleep_and_safepoint_inside_a_region_are_the_plain_threads(string parker)
    {
        // Inside a region the worker is BLOCKED and holds no server: there is nothing of the scheduler's to give
        // up or wait for, and the kernel half keeps it BLOCKED until the region ends (a safepoint there does not
        // end the region). A scheduler yield there would wait for ever to be RUNNING again.
        var scheduler = SchedulerFixture.Create(parker, servers: 1);
        using var gate = new ManualResetEventSlim();
        var inRegion = scheduler.Spawn(() =>
        {
            using (Worker.Blocking())
            {
                Worker.Yield();
                Worker.Safepoint();
                Worker.Sleep(TimeSpan.FromMilliseconds(1));
                bool direct = Worker.SwitchTo(Worker.Current!);
                gate.Wait();
                return direct;
            }
        });

        // The server is free while the first body is in its region: a second body runs and lets it go on.
        var other = scheduler.Spawn(gate.Set);
        SchedulerFixture.WaitAll(scheduler, inRegion, other);
        Assert.False(inRegion.Join());
        Assert.Equal(1, scheduler.Stats.Blocks);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void Worker_calls_fall_back_to_plain_blocking_off_the_scheduler()
    {
        Assert.False(Worker.IsWorker);
        using (Worker.Blocking())
        {
            Worker.Safepoint();
            Worker.Yield();
            Worker.Sleep(TimeSpan.Zero);
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => Worker.Sleep(TimeSpan.FromTicks(-1)));
    }
}
