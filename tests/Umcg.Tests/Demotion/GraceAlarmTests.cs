using Umcg.Kernel.Native;
using Umcg.Scheduling.Demotion;

namespace Umcg.Tests.Demotion;

/// <summary>
/// D1's grace on the alarm (Scheduling/Server.GraceAlarm.cs): a timer per server that any thread sets or clears, one
/// thread that rings the server whose timer ran out; a give-way in time clears it from the drain that sees it. That a
/// grace that runs out still ends in a demotion is <see cref="PreemptionByDemotionTests"/>' (they run through the
/// alarm); whether the ring or the server's backstop brings the server back first depends on which thread a loaded
/// machine runs first, so no test asserts which.
/// </summary>
public sealed class GraceAlarmTests
{
    [Fact]
    public void A_cleared_alarm_never_rings_and_a_set_one_rings_its_server_once()
    {
        var rings = new ConcurrentQueue<int>();
        using var alarm = GraceAlarm.TryCreate(2, rings.Enqueue);
        Assert.NotNull(alarm);

        // Server 0's deadline comes first: had its clear not taken, it would ring before server 1's.
        long now = LinuxSyscalls.MonotonicNs();
        alarm.Set(0, now + 500_000_000);
        alarm.Set(1, now + 1_000_000_000);
        Assert.True(alarm.IsSetForTests(0));
        alarm.Set(0, 0);
        Assert.False(alarm.IsSetForTests(0));
        Assert.True(alarm.IsSetForTests(1));

        // The callback's effect, not the count: the count goes up just before the callback runs.
        Watchdog.Until(() => !rings.IsEmpty, UmcgKernel.Default, "server 1's alarm rings");
        Assert.Equal([1], rings.ToArray());
        Assert.Equal(1, alarm.Rings);
        Assert.False(alarm.IsSetForTests(1)); // one expiry: it does not ring again
    }

    [Fact]
    public void A_give_way_in_time_clears_its_servers_alarm_without_a_ring()
    {
        for (int i = 0; i < 10; i++)
        {
            // A grace no run reaches: the alarm, once set, stays set until a drain clears it.
            using var scheduler = SchedulerFixture.Create(servers: 1, options: SchedulerFixture.Undetected with
            {
                Policy = () => new PriorityPolicy(Timeout.InfiniteTimeSpan),
                Demotion = new DemotionOptions { GracePeriod = TimeSpan.FromMinutes(5) },
            });
            Assert.NotEqual(DemotionMode.Unavailable, scheduler.DemotionMode);
            Assert.NotNull(scheduler.GraceAlarm);
            var server = scheduler.Servers[0];

            int started = 0, safepoints = 0, stop = 0;
            long laps = 0;
            var low = scheduler.Spawn(
                () =>
                {
                    Volatile.Write(ref started, 1);
                    while (Volatile.Read(ref safepoints) == 0)
                    {
                        Thread.SpinWait(20); // no safepoint yet: the give-way stays asked for
                    }

                    while (Volatile.Read(ref stop) == 0)
                    {
                        Interlocked.Increment(ref laps);
                        Worker.Safepoint();
                    }
                },
                new WorkerOptions { Priority = 0 });
            try
            {
                Watchdog.Until(() => Volatile.Read(ref started) == 1, scheduler.Kernel, "the low body runs");

                var high = scheduler.Spawn(() => { }, new WorkerOptions { Priority = 20 });
                Watchdog.Until(() => server.GraceAlarmSetForTests, scheduler.Kernel, $"iteration {i}: the server asks the low body to give way and sets its alarm");

                // The low body reaches a safepoint, gives way to the high one, and runs again once a drain took its give-way.
                Volatile.Write(ref safepoints, 1);
                Watchdog.Until(() => high.Completion.IsCompleted, scheduler.Kernel, $"iteration {i}: the high body ends");
                long after = Interlocked.Read(ref laps);
                Watchdog.Until(() => Interlocked.Read(ref laps) > after + 1, scheduler.Kernel, $"iteration {i}: the low body runs again");

                Assert.False(server.GraceAlarmSetForTests, $"iteration {i}: the alarm is still set after the give-way");
                Assert.Equal(0, scheduler.Stats.GraceAlarms);
                Assert.Equal(0, scheduler.Stats.Demotions);
            }
            finally
            {
                // Whatever failed above, the low body ends: the scheduler's Dispose waits for it.
                Volatile.Write(ref safepoints, 1);
                Volatile.Write(ref stop, 1);
            }

            SchedulerFixture.WaitAll(scheduler, low);
            Assert.Empty(scheduler.Faults);
        }
    }
}
