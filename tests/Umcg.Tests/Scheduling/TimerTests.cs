namespace Umcg.Tests.Scheduling;

public sealed class TimerTests
{
    [Theory, BothParkers]
    public void A_sleeping_worker_gives_its_cpu_to_others_and_its_server_wakes_it(string parker)
    {
        var scheduler = SchedulerFixture.Create(parker, servers: 1);
        long spins = 0;
        int sleeperDone = 0;
        long before = -1;
        long after = -1;
        using var spinnerRunning = new ManualResetEventSlim();

        var spinner = scheduler.Spawn(() =>
        {
            spinnerRunning.Set();
            while (Volatile.Read(ref sleeperDone) == 0)
            {
                Interlocked.Increment(ref spins);
                Worker.Yield();
            }
        });
        spinnerRunning.Wait();
        var sleeper = scheduler.Spawn(() =>
        {
            before = Interlocked.Read(ref spins);
            Worker.Sleep(TimeSpan.FromMilliseconds(20));
            after = Interlocked.Read(ref spins);
            Volatile.Write(ref sleeperDone, 1);
        });

        SchedulerFixture.WaitAll(scheduler, spinner, sleeper);
        sleeper.Join();

        // One server: the spinner could only progress while the sleeper was off the CPU.
        Assert.True(after > before, $"spins before {before}, after {after}");
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void Many_sleeps_of_different_lengths_all_wake()
    {
        var scheduler = SchedulerFixture.Create(servers: 2);
        var sleepers = Enumerable.Range(0, 100)
            .Select(i => scheduler.Spawn(() =>
            {
                Worker.Sleep(TimeSpan.FromMilliseconds(i % 7));
                Worker.Sleep(TimeSpan.Zero);
                return i;
            }))
            .ToArray();
        SchedulerFixture.WaitAll(scheduler, sleepers);
        Assert.Equal(Enumerable.Range(0, 100), sleepers.Select(s => s.Join()));
        SchedulerFixture.Shutdown(scheduler);
    }
}
