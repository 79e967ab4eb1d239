namespace Umcg.Tests.Scheduling;

/// <summary>Helpers for scheduler tests: a scheduler on a fresh kernel half, and watchdog waits on handles.</summary>
internal static class SchedulerFixture
{
    public static UmcgScheduler Create(string parker = "futex", int servers = 1, UmcgSchedulerOptions? options = null) =>
        new((options ?? new UmcgSchedulerOptions()) with { Servers = servers, Kernel = Parkers.NewKernel(parker) });

    /// <summary>
    /// Waits for <paramref name="handles"/> (whatever their outcome) under the watchdog, which counts from the
    /// scheduler's last visible step (a spawn, a completion, a block, a yield, a switch).
    /// </summary>
    public static void WaitAll(UmcgScheduler scheduler, params WorkerHandle[] handles)
    {
        var all = Task.WhenAll(handles.Select(h => h.Completion));
        var stats = scheduler.Stats;
        Watchdog.WaitWhileProgressing(
            scheduler.Kernel,
            all,
            () => stats.Spawned + stats.Completed + stats.Blocks + stats.Yields + stats.DirectSwitches,
            () => $"bodies did not finish ({handles.Count(h => !h.IsCompleted)} of {handles.Length} pending); faults: {string.Join(Environment.NewLine, scheduler.Faults)}");
    }

    public static void Shutdown(UmcgScheduler scheduler)
    {
        Watchdog.Wait(scheduler.Kernel, scheduler.ShutdownAsync(), $"scheduler shutdown; faults: {string.Join(Environment.NewLine, scheduler.Faults)}");
        Assert.Empty(scheduler.Faults);
    }
}
