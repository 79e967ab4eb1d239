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
        int released = 0;
        int spinning = 0;
        var spinner = scheduler.Spawn(
            () =>
            {
                Volatile.Write(ref spinning, 1);
                while (Volatile.Read(ref released) == 0)
                {
                    Thread.SpinWait(20);
                }
            },
            new WorkerOptions { Priority = 0 });
        Watchdog.Until(() => Volatile.Read(ref spinning) == 1, scheduler.Kernel, "the spinner runs");
        var high = scheduler.Spawn(() => Volatile.Write(ref released, 1), new WorkerOptions { Priority = 20 });

        // Grace after grace passes on the clock; each look finds no CPU time run and defers instead of demoting.
        Watchdog.Until(() => scheduler.Stats.DemotionsDeferred >= Deferrals, scheduler.Kernel, $"{Deferrals} deferred demotions");
        Assert.Equal(0, scheduler.Stats.Demotions);
        Assert.Equal(0, Volatile.Read(ref released));

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
        int released = 0;
        int sleeping = 0;
        var sleeper = scheduler.Spawn(
            () =>
            {
                Volatile.Write(ref sleeping, 1);
                while (Volatile.Read(ref released) == 0)
                {
                    LinuxSyscalls.Nanosleep(2_000_000);
                }
            },
            new WorkerOptions { Priority = 0 });
        Watchdog.Until(() => Volatile.Read(ref sleeping) == 1, scheduler.Kernel, "the sleeper runs");
        var high = scheduler.Spawn(() => Volatile.Write(ref released, 1), new WorkerOptions { Priority = 20 });

        SchedulerFixture.WaitAll(scheduler, sleeper, high);
        Assert.True(sleeper.Completion.IsCompletedSuccessfully && high.Completion.IsCompletedSuccessfully);
        Assert.Equal(1, scheduler.Stats.Demotions);
        Assert.Empty(scheduler.Faults);
    }
}
