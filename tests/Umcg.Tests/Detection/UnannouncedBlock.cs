namespace Umcg.Tests.Detection;

/// <summary>What one run of <see cref="UnannouncedSleeper.SleepWhileAnotherWorkerRuns{T}"/> saw.</summary>
/// <param name="AfterSleep">What the sleeper returned once its sleep was over.</param>
/// <param name="OtherRanWhileSleeping">Whether the second worker ran before the sleeper had finished.</param>
/// <param name="Sleeps">How many times the sleeper slept.</param>
internal readonly record struct SleeperOutcome<T>(T AfterSleep, bool OtherRanWhileSleeping, int Sleeps);

/// <summary>
/// The case the detection tests are built on: on one server, a worker sleeps in <see cref="Thread.Sleep(int)"/>
/// (unannounced: no blocking region) until a second worker has run. The second one can only run if a detector
/// marked the sleeper blocked and so gave the server back.
/// </summary>
internal static class UnannouncedSleeper
{
    /// <summary>Runs the case; the sleeper then calls <paramref name="afterSleep"/> and returns its result.</summary>
    public static SleeperOutcome<T> SleepWhileAnotherWorkerRuns<T>(UmcgScheduler scheduler, Func<T> afterSleep)
    {
        int started = 0;
        int otherRan = 0;
        int sleeps = 0;
        var sleeper = scheduler.Spawn(() =>
        {
            Volatile.Write(ref started, 1);

            // Sleeps until the other worker has run: only possible if the server ran it meanwhile.
            while (Volatile.Read(ref otherRan) == 0)
            {
                Thread.Sleep(1);
                sleeps++;
            }

            return afterSleep();
        });
        Watchdog.Until(() => Volatile.Read(ref started) == 1, scheduler.Kernel, "the sleeper to start");
        var other = scheduler.Spawn(() =>
        {
            bool sleeperStillSleeping = !sleeper.IsCompleted;
            Volatile.Write(ref otherRan, 1);
            return sleeperStillSleeping;
        });

        SchedulerFixture.WaitAll(scheduler, sleeper, other);

        // Joined: the sleeper's count is final and visible here.
        return new(sleeper.Join(), other.Join(), sleeps);
    }

    /// <summary>Runs the case with nothing to do after the sleep.</summary>
    public static void SleepWhileAnotherWorkerRuns(UmcgScheduler scheduler) => SleepWhileAnotherWorkerRuns(scheduler, () => true);
}
