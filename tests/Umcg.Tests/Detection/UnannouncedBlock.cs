namespace Umcg.Tests.Detection;

/// <summary>What one run of <see cref="UnannouncedBlock.SleepWhileAnotherWorkerRuns{T}"/> saw.</summary>
/// <param name="AfterSleep">What the sleeper returned once its sleep was over.</param>
/// <param name="OtherRanWhileSleeping">Whether the second worker ran before the sleeper had finished sleeping.</param>
/// <param name="Sleeps">How many times the sleeper slept.</param>
internal readonly record struct SleeperOutcome<T>(T AfterSleep, bool OtherRanWhileSleeping, int Sleeps);

/// <summary>
/// The case the detection tests are built on: on one server, a worker blocks without saying so (no blocking
/// region), and a second worker must run before the first can go on. The second one can only run if a
/// detector marked the first blocked and so gave the server back.
/// </summary>
internal static class UnannouncedBlock
{
    /// <summary>
    /// Spawns a worker that runs <paramref name="block"/>, waits until it has started, then spawns a second worker
    /// that runs <paramref name="other"/>, and waits for both. Returns what <paramref name="block"/> returned.
    /// </summary>
    public static T WhileAnotherWorkerRuns<T>(UmcgScheduler scheduler, string blocker, Func<T> block, Action other)
    {
        int started = 0;
        var first = scheduler.Spawn(() =>
        {
            Volatile.Write(ref started, 1);
            return block();
        });
        Watchdog.Until(() => Volatile.Read(ref started) == 1, scheduler.Kernel, $"the {blocker} to start");
        var second = scheduler.Spawn(other);
        SchedulerFixture.WaitAll(scheduler, first, second);
        return first.Join();
    }

    /// <summary>
    /// The first worker sleeps in <see cref="Thread.Sleep(int)"/> until the second has run, then calls
    /// <paramref name="afterSleep"/> and returns its result.
    /// </summary>
    public static SleeperOutcome<T> SleepWhileAnotherWorkerRuns<T>(UmcgScheduler scheduler, Func<T> afterSleep)
    {
        int otherRan = 0;
        int slept = 0;
        int sleeps = 0;
        bool otherRanWhileSleeping = false;
        var result = WhileAnotherWorkerRuns(
            scheduler,
            "sleeper",
            () =>
            {
                // Sleeps until the other worker has run: only possible if the server ran it meanwhile.
                while (Volatile.Read(ref otherRan) == 0)
                {
                    Thread.Sleep(1);
                    sleeps++;
                }

                Volatile.Write(ref slept, 1);
                return afterSleep();
            },
            () =>
            {
                otherRanWhileSleeping = Volatile.Read(ref slept) == 0;
                Volatile.Write(ref otherRan, 1);
            });

        // Both joined: what they wrote is final and visible here.
        return new(result, otherRanWhileSleeping, sleeps);
    }

    /// <summary>Runs the sleeper case with nothing to do after the sleep.</summary>
    public static void SleepWhileAnotherWorkerRuns(UmcgScheduler scheduler) => SleepWhileAnotherWorkerRuns(scheduler, () => true);
}
