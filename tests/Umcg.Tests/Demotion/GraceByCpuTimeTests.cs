using Umcg.Kernel.Native;
using Umcg.Scheduling.Demotion;

namespace Umcg.Tests.Demotion;

/// <summary>
/// D1's grace counts the worker's own CPU time (docs/preemption.md): a worker the OS did not run since it was asked
/// to give way is not demoted, however long the clock says it overstayed; a worker asleep in the kernel is. The thread
/// CPU clock is stood in for, so that "the OS did not run it" is certain rather than hoped for from a loaded machine.
/// </summary>
public sealed class GraceByCpuTimeTests
{
    private const int Deferrals = 3;

    private static UmcgSchedulerOptions Options() =>
        SchedulerFixture.Undetected with
        {
            Policy = () => new PriorityPolicy(Timeout.InfiniteTimeSpan),
            Demotion = new DemotionOptions { GracePeriod = TimeSpan.FromMilliseconds(1) },
        };

    [Fact]
    public void A_worker_whose_CPU_clock_stands_still_is_given_more_grace_and_demoted_once_it_runs_a_whole_grace()
    {
        using var scheduler = SchedulerFixture.Create(servers: 1, options: Options());
        Assert.NotEqual(DemotionMode.Unavailable, scheduler.DemotionMode);
        var demotion = scheduler.Demotion!;
        demotion.CpuClockForTests = static _ => 1_000; // the OS runs it not at all, as far as the server can tell

        // The spinner has no safepoint: only a demotion lets the high body run on the one server and release it.
        var (spinner, high, released) = LowReleasedOnlyByHigh(scheduler, () => Thread.SpinWait(20), "the spinner runs");

        // Grace after grace passes on the clock; each look finds no CPU time run and defers instead of demoting.
        Watchdog.Until(() => scheduler.Stats.DemotionsDeferred >= Deferrals, scheduler.Kernel, $"{Deferrals} deferred demotions");
        Assert.Equal(0, scheduler.Stats.Demotions);
        Assert.False(released.IsSet);

        // The real clock back: the spinner has run far more than a grace since it was asked, and is demoted.
        demotion.CpuClockForTests = null;
        SchedulerFixture.WaitAll(scheduler, spinner, high);
        Assert.True(spinner.Completion.IsCompletedSuccessfully && high.Completion.IsCompletedSuccessfully);
        Assert.Equal(1, scheduler.Stats.Demotions);
        Assert.Empty(scheduler.Faults);
    }

    [Fact]
    public void A_worker_asleep_in_the_kernel_past_its_grace_is_demoted_though_its_CPU_clock_stands_still()
    {
        using var scheduler = SchedulerFixture.Create(servers: 1, options: Options());
        Assert.NotEqual(DemotionMode.Unavailable, scheduler.DemotionMode);
        scheduler.Demotion!.CpuClockForTests = static _ => 1_000;

        // Sleeps nobody announced (no region, no detector): its own wait, not the OS, keeps it from a safepoint.
        var (sleeper, high, _) = LowReleasedOnlyByHigh(scheduler, () => LinuxSyscalls.Nanosleep(2_000_000), "the sleeper runs");

        SchedulerFixture.WaitAll(scheduler, sleeper, high);
        Assert.True(sleeper.Completion.IsCompletedSuccessfully && high.Completion.IsCompletedSuccessfully);
        Assert.Equal(1, scheduler.Stats.Demotions);
        Assert.Empty(scheduler.Faults);
    }

    /// <summary>
    /// A priority-0 body that repeats <paramref name="step"/> (never a safepoint) until a priority-20 body, spawned
    /// once it runs, sets the flag: on one server the high body runs only if the low one was demoted.
    /// </summary>
    private static (WorkerHandle Low, WorkerHandle High, ManualResetEventSlim Released) LowReleasedOnlyByHigh(
        UmcgScheduler scheduler, Action step, string what)
    {
        var released = new ManualResetEventSlim();
        int running = 0;
        var low = scheduler.Spawn(
            () =>
            {
                Volatile.Write(ref running, 1);
                while (!released.IsSet)
                {
                    step();
                }
            },
            new WorkerOptions { Priority = 0 });
        Watchdog.Until(() => Volatile.Read(ref running) == 1, scheduler.Kernel, what);
        var high = scheduler.Spawn(released.Set, new WorkerOptions { Priority = 20 });
        return (low, high, released);
    }
}
