using Umcg.Scheduling;
using Umcg.Tests.Infrastructure;

namespace Umcg.Tests.Scheduling;

public sealed class BlockingTests
{
    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
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
