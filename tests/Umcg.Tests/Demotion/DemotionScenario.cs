namespace Umcg.Tests.Demotion;

/// <summary>
/// The scenario every demotion test starts from: a priority-0 body that spins without a safepoint until a flag only a
/// priority-20 body sets. On one server it can only end if the high body ran beside it, which demotion alone allows.
/// </summary>
internal static class DemotionScenario
{
    /// <summary>Runs the scenario on <paramref name="scheduler"/>; returns the spinner's policy and nice as the high body saw them.</summary>
    public static (int Policy, int Nice) RunSpinnerReleasedByHigher(UmcgScheduler scheduler) => RunSpinnerReleasedByHigher(scheduler, out _);

    /// <summary>The scenario, with the spinner's thread (<paramref name="spinnerTid"/>) for a look at it afterwards.</summary>
    public static (int Policy, int Nice) RunSpinnerReleasedByHigher(UmcgScheduler scheduler, out int spinnerTid)
    {
        int released = 0;
        int tid = 0;
        (int Policy, int Nice) seenByHigh = default;
        var spinner = scheduler.Spawn(
            () =>
            {
                Volatile.Write(ref tid, Worker.Current!.Tid);
                while (Volatile.Read(ref released) == 0)
                {
                    Thread.SpinWait(20);
                }
            },
            new WorkerOptions { Priority = 0 });
        Watchdog.Until(() => Volatile.Read(ref tid) != 0, scheduler.Kernel, "the spinner runs");

        var high = scheduler.Spawn(
            () =>
            {
                seenByHigh = ProcSched.Read(Volatile.Read(ref tid));
                Volatile.Write(ref released, 1);
            },
            new WorkerOptions { Priority = 20 });

        SchedulerFixture.WaitAll(scheduler, spinner, high);
        Assert.True(spinner.Completion.IsCompletedSuccessfully && high.Completion.IsCompletedSuccessfully);
        spinnerTid = Volatile.Read(ref tid);
        return seenByHigh;
    }
}
