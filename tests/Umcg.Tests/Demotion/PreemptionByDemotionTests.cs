using Umcg.Scheduling.Demotion;

namespace Umcg.Tests.Demotion;

/// <summary>
/// Preemption of bodies that have no safepoints, by demotion (docs/preemption.md): orderings that can only come out
/// one way if the server took the CPU back, under a watchdog, with the demotions and restorations counted exactly.
/// </summary>
public sealed class PreemptionByDemotionTests
{
    private const int Iterations = 20;

    private static UmcgSchedulerOptions Options(DemotionOptions? demotion = null) =>
        SchedulerFixture.Undetected with
        {
            Policy = () => new PriorityPolicy(Timeout.InfiniteTimeSpan),
            Demotion = demotion ?? new DemotionOptions(),
        };

    [Fact]
    public void A_body_without_safepoints_ends_only_because_a_higher_priority_body_ran_beside_it()
    {
        for (int i = 0; i < Iterations; i++)
        {
            using var scheduler = SchedulerFixture.Create(servers: 1, options: Options());
            Assert.NotEqual(DemotionMode.Unavailable, scheduler.DemotionMode);
            // The spinner can only end if the high body ran on the one server while the spinner still ran.
            var seenByHigh = DemotionScenario.RunSpinnerReleasedByHigher(scheduler);

            // While the high body ran, the spinner's thread was lowered; it was demoted exactly once, and restored
            // exactly once (by its server's adoption, or by itself as its body ended) where the OS allows it.
            Assert.True(seenByHigh.Policy == ProcSched.Idle || seenByHigh.Nice == 19, $"spinner ran at policy {seenByHigh.Policy}, nice {seenByHigh.Nice}");
            var stats = scheduler.Stats;
            string counts = $"iteration {i}, {scheduler.DemotionMode}: demotions {stats.Demotions}, failures {stats.DemotionFailures}, restorations {stats.Restorations}, retired {stats.RetiredDemotedThreads}, adoptions {stats.Adoptions}, background {stats.BackgroundWorkers}";
            bool restorable = scheduler.DemotionMode == DemotionMode.Restorable;
            Assert.True(stats.Demotions == 1 && stats.DemotionFailures == 0, counts);
            Assert.True(stats.Restorations == (restorable ? 1 : 0) && stats.RetiredDemotedThreads == (restorable ? 0 : 1), counts);
            Assert.True(stats.Adoptions is 0 or 1 && stats.BackgroundWorkers == 0, counts);
            Assert.Empty(scheduler.Faults);
        }
    }

    [Fact]
    public void Restored_threads_run_their_next_body_at_their_own_priority()
    {
        using var scheduler = SchedulerFixture.Create(servers: 1, options: Options());
        if (scheduler.DemotionMode != DemotionMode.Restorable)
        {
            Assert.Equal(DemotionMode.OneWay, scheduler.DemotionMode); // checked in a subprocess too (DemotionProbeTests)
            return;
        }

        DemotionScenario.RunSpinnerReleasedByHigher(scheduler);

        // Every pooled thread (the spinner's among them) runs a body at the policy and nice a worker starts with.
        var seen = new List<(int Tid, int Policy, int Nice)>();
        var probes = Enumerable.Range(0, 2).Select(_ => scheduler.Spawn(() =>
        {
            int tid = Worker.Current!.Tid;
            var (policy, nice) = ProcSched.Read(tid);
            lock (seen)
            {
                seen.Add((tid, policy, nice));
            }
        })).ToArray();
        SchedulerFixture.WaitAll(scheduler, probes);
        Assert.All(seen, s => Assert.Equal((ProcSched.Other, 0), (s.Policy, s.Nice)));
        Assert.Equal(1, scheduler.Stats.Restorations);
    }

    [Fact]
    public void With_demotion_off_a_body_without_safepoints_keeps_its_server_until_it_ends()
    {
        using var scheduler = SchedulerFixture.Create(servers: 1, options: Options(DemotionOptions.Off));
        Assert.Equal(DemotionMode.Unavailable, scheduler.DemotionMode);
        var (spinnerEndedFirst, stats) = RunBoundedSpinnerThenHigh(scheduler, spins: 200_000);
        Assert.True(spinnerEndedFirst, "the high body ran before the spinner ended, with demotion off");
        Assert.Equal(0, stats.Demotions);
    }

    [Fact]
    public void A_server_demotes_no_more_workers_than_its_bound()
    {
        // Two spinners without safepoints, one above the other, then a body above both that ends them. With one
        // background worker allowed, the second spinner cannot be demoted: the top body runs only once it ends by itself.
        using (var one = SchedulerFixture.Create(servers: 1, options: Options(new DemotionOptions { MaxDemotedPerServer = 1 })))
        {
            var (midEndedFirst, demotions) = RunTwoSpinnersThenTop(one);
            Assert.True(midEndedFirst, "the top body ran before the undemotable spinner ended");
            Assert.Equal(1, demotions);
        }

        using (var two = SchedulerFixture.Create(servers: 1, options: Options(new DemotionOptions { MaxDemotedPerServer = 2 })))
        {
            var (midEndedFirst, demotions) = RunTwoSpinnersThenTop(two);
            Assert.False(midEndedFirst, "the spinner ended by itself although it could be demoted");
            Assert.Equal(2, demotions);
        }
    }

    /// <summary>
    /// A low spinner that ends only when released, a middle one that ends when released or after its own long spin,
    /// and a top body that releases both; returns whether the middle spinner ended by itself before the top body ran.
    /// </summary>
    private static (bool MidEndedFirst, long Demotions) RunTwoSpinnersThenTop(UmcgScheduler scheduler)
    {
        int released = 0;
        int lowRuns = 0;
        int midRuns = 0;
        int midEndedByItself = 0;
        bool midEndedFirst = false;
        var low = scheduler.Spawn(
            () =>
            {
                Volatile.Write(ref lowRuns, 1);
                while (Volatile.Read(ref released) == 0)
                {
                    Thread.SpinWait(20);
                }
            },
            new WorkerOptions { Priority = 0 });
        Watchdog.Until(() => Volatile.Read(ref lowRuns) != 0, scheduler.Kernel, "the low spinner runs");
        var mid = scheduler.Spawn(
            () =>
            {
                Volatile.Write(ref midRuns, 1);
                for (long spun = 0; Volatile.Read(ref released) == 0; spun++)
                {
                    if (spun == 2_000_000)
                    {
                        Volatile.Write(ref midEndedByItself, 1);
                        return;
                    }

                    Thread.SpinWait(20);
                }
            },
            new WorkerOptions { Priority = 10 });
        Watchdog.Until(() => Volatile.Read(ref midRuns) != 0, scheduler.Kernel, "the middle spinner runs (the low one demoted)");
        var top = scheduler.Spawn(
            () =>
            {
                midEndedFirst = Volatile.Read(ref midEndedByItself) == 1;
                Volatile.Write(ref released, 1);
            },
            new WorkerOptions { Priority = 20 });
        SchedulerFixture.WaitAll(scheduler, low, mid, top);
        Assert.Empty(scheduler.Faults);
        return (midEndedFirst, scheduler.Stats.Demotions);
    }

    /// <summary>A spinner without safepoints that ends after <paramref name="spins"/> rounds or when released, then a high body that releases it.</summary>
    private static (bool SpinnerEndedFirst, SchedulerStats Stats) RunBoundedSpinnerThenHigh(UmcgScheduler scheduler, long spins)
    {
        int released = 0;
        int running = 0;
        int endedByItself = 0;
        bool endedFirst = false;
        var spinner = scheduler.Spawn(() =>
        {
            Volatile.Write(ref running, 1);
            for (long spun = 0; Volatile.Read(ref released) == 0; spun++)
            {
                if (spun == spins)
                {
                    Volatile.Write(ref endedByItself, 1);
                    return;
                }

                Thread.SpinWait(20);
            }
        });
        Watchdog.Until(() => Volatile.Read(ref running) != 0, scheduler.Kernel, "the spinner runs");
        var high = scheduler.Spawn(
            () =>
            {
                endedFirst = Volatile.Read(ref endedByItself) == 1;
                Volatile.Write(ref released, 1);
            },
            new WorkerOptions { Priority = 20 });
        SchedulerFixture.WaitAll(scheduler, spinner, high);
        return (endedFirst, scheduler.Stats);
    }

    [Theory]
    [InlineData(MutexHandOff.Fifo)]
    [InlineData(MutexHandOff.Barging)]
    public void A_demoted_holder_of_an_awaited_lock_runs_before_a_middle_priority_worker(MutexHandOff handOff)
    {
        using var scheduler = SchedulerFixture.Create(servers: 1, options: Options());
        var mutex = new UmcgMutex(handOff);
        var events = new ConcurrentQueue<string>();
        int holding = 0;
        int highParks = 0;
        int done = 0;

        // low holds the lock and spins without a safepoint until high asks for it: it is demoted when middle arrives.
        var low = scheduler.Spawn(
            () =>
            {
                mutex.Lock();
                Volatile.Write(ref holding, 1);
                while (Volatile.Read(ref highParks) == 0)
                {
                    Thread.SpinWait(20);
                }

                events.Enqueue("low releases");
                mutex.Unlock();
            },
            new WorkerOptions { Priority = 0 });
        Watchdog.Until(() => Volatile.Read(ref holding) == 1, scheduler.Kernel, "low holds the lock");

        // middle has safepoints: it gives way to high and waits queued, ahead of low by priority.
        var middle = scheduler.Spawn(
            () =>
            {
                while (Volatile.Read(ref done) == 0)
                {
                    Thread.SpinWait(20);
                    Worker.Safepoint();
                    if (Volatile.Read(ref highParks) == 1)
                    {
                        events.Enqueue("middle runs");
                    }
                }
            },
            new WorkerOptions { Priority = 10 });
        Watchdog.Until(() => scheduler.Stats.Demotions == 1, scheduler.Kernel, "low demoted for middle");

        var high = scheduler.Spawn(
            () =>
            {
                Volatile.Write(ref highParks, 1);
                mutex.Lock();
                events.Enqueue("high holds the lock");
                mutex.Unlock();
                Volatile.Write(ref done, 1);
            },
            new WorkerOptions { Priority = 20 });

        SchedulerFixture.WaitAll(scheduler, low, middle, high);
        Assert.Empty(scheduler.Faults);

        // Without the boost the server would run middle (queued, above low) while low waited lowered in the background.
        var order = events.ToArray();
        Assert.True(order.Length >= 2 && order[0] == "low releases" && order[1] == "high holds the lock", string.Join(", ", order));
        Assert.True(scheduler.Stats.Adoptions >= 1, $"adoptions {scheduler.Stats.Adoptions}");
    }
}
