using Umcg.Kernel.Native;

namespace Umcg.Tests.Scheduling;

/// <summary>
/// <see cref="PriorityPolicy"/> with <see cref="Timeout.InfiniteTimeSpan"/>: no round robin among equal
/// priorities (each runs until it blocks, yields or finishes), while a higher priority still preempts.
/// </summary>
public sealed class PriorityWithoutSliceTests
{
    private static UmcgScheduler Create() =>
        SchedulerFixture.Create(servers: 1, options: new UmcgSchedulerOptions { Policy = () => new PriorityPolicy(Timeout.InfiniteTimeSpan) });

    [Fact]
    public void An_equal_priority_worker_waits_until_the_running_one_finishes_however_long_it_runs()
    {
        var scheduler = Create();
        int secondStarted = 0;
        bool sawSecond = false;
        using var firstRunning = new ManualResetEventSlim();

        // 50 ms of the first worker's own CPU time, passing safepoints all along: with any slice the second
        // worker would start in between (the default slice is 4 ms).
        var first = scheduler.Spawn(() =>
        {
            firstRunning.Set();
            long start = LinuxSyscalls.ThreadCpuNs();
            while (LinuxSyscalls.ThreadCpuNs() - start < 50_000_000)
            {
                Worker.Safepoint();
                sawSecond |= Volatile.Read(ref secondStarted) != 0;
            }
        }, new WorkerOptions { Priority = 5 });
        firstRunning.Wait();
        var second = scheduler.Spawn(() => Volatile.Write(ref secondStarted, 1), new WorkerOptions { Priority = 5 });

        SchedulerFixture.WaitAll(scheduler, first, second);
        Assert.False(sawSecond, "the second worker of equal priority ran before the first finished");
        Assert.Equal(0, scheduler.CountersForTests(0).Preemptions);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void A_higher_priority_arrival_still_preempts_at_the_next_safepoint()
    {
        var scheduler = Create();
        int highRan = 0;
        using var lowRunning = new ManualResetEventSlim();

        // Ends only once the high-priority body ran: on one server that needs a preemption.
        var low = scheduler.Spawn(() =>
        {
            lowRunning.Set();
            while (Volatile.Read(ref highRan) == 0)
            {
                Worker.Safepoint();
            }
        }, new WorkerOptions { Priority = 0 });
        lowRunning.Wait();
        var high = scheduler.Spawn(() => Volatile.Write(ref highRan, 1), new WorkerOptions { Priority = 20 });

        SchedulerFixture.WaitAll(scheduler, low, high);
        Assert.True(scheduler.CountersForTests(0).Preemptions >= 1);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void Only_a_positive_or_infinite_slice_is_accepted()
    {
        Assert.NotNull(new PriorityPolicy(Timeout.InfiniteTimeSpan));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PriorityPolicy(TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PriorityPolicy(TimeSpan.FromMilliseconds(-2)));
    }
}
