namespace Umcg.Tests.Scheduling;

/// <summary>
/// Many workers doing a random mix of compute, blocking regions, yields and sleeps, checked throughout: at
/// most one worker per server runs user code, and every body completes exactly once.
/// </summary>
public sealed class SchedulerStressTests
{
    public static TheoryData<string, string> Cases => new()
    {
        { "futex", "fifo" },
        { "monitor", "fifo" },
        { "futex", "priority" },
        { "futex", "fairshare" },
    };

    [Theory]
    [Trait("Category", "Stress")]
    [MemberData(nameof(Cases))]
    public void A_thousand_workers_doing_a_random_mix_never_share_a_server(string parker, string policy)
    {
        // Detection and demotion off: a worker a detector marks blocked, or one its server demoted, runs on beside its
        // server's next worker until its next safepoint, which is exactly what this test counts as a violation. The
        // detectors have their own stress test (Detection/DetectionStressTests); demotion the one below, which checks
        // the foreground through the kernel half instead.
        var scheduler = SchedulerFixture.Create(parker, servers: 2, new UmcgSchedulerOptions
        {
            Policy = PolicyFor(policy),
            Detection = DetectionOptions.Off,
            Demotion = Umcg.Scheduling.Demotion.DemotionOptions.Off,
        });
        RunRandomMix(scheduler, overstay: false);
        Assert.Equal(0, scheduler.Stats.Demotions);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Theory]
    [Trait("Category", "Stress")]
    [MemberData(nameof(Cases))]
    public void A_thousand_workers_some_overstaying_without_safepoints_are_demoted_restored_and_each_finishes_once(string parker, string policy)
    {
        var scheduler = SchedulerFixture.Create(parker, servers: 2, new UmcgSchedulerOptions { Policy = PolicyFor(policy), Detection = DetectionOptions.Off });
        RunRandomMix(scheduler, overstay: true);

        // Every demotion ended: nobody is left in the background, and each lowered thread was put back once (V8).
        var stats = scheduler.Stats;
        string counts = $"{scheduler.DemotionMode}: demotions {stats.Demotions}, restorations {stats.Restorations}, failures {stats.DemotionFailures}, adoptions {stats.Adoptions}, background {stats.BackgroundWorkers}";
        Assert.True(stats.Demotions > 0, counts);
        Assert.True(stats.BackgroundWorkers == 0 && stats.DemotionFailures == 0, counts);
        if (scheduler.DemotionMode == Umcg.Scheduling.Demotion.DemotionMode.Restorable)
        {
            Assert.True(stats.Restorations == stats.Demotions, counts);
        }

        SchedulerFixture.Shutdown(scheduler);
    }

    private static Func<IRunQueuePolicy> PolicyFor(string policy) => policy switch
    {
        "priority" => () => new PriorityPolicy(TimeSpan.FromMilliseconds(1)),
        "fairshare" => () => new FairSharePolicy(TimeSpan.FromMilliseconds(1)),
        _ => () => new FifoPolicy(TimeSpan.FromMilliseconds(2)),
    };

    /// <summary>
    /// A thousand bodies of random steps; with <paramref name="overstay"/> some steps spin for 3 ms without a safepoint
    /// (longer than any slice and its grace). Asserts that every body completed exactly once and, without overstaying
    /// steps, that no two workers ever ran user code on one server at once.
    /// </summary>
    private static void RunRandomMix(UmcgScheduler scheduler, bool overstay)
    {
        const int Workers = 1000;
        const int Steps = 12;
        int seed = Environment.TickCount;
        var runningOn = new int[scheduler.ServerCount];
        var completions = new int[Workers];
        var violations = new ConcurrentQueue<string>();

        // With overstaying steps the count is off: a demoted worker runs user code beside its server's next worker
        // until its next safepoint, by design (its server's record names only the foreground one: the conformance
        // tests and the model check that).
        int Enter()
        {
            int server = Worker.Current!.ServerIndex;
            int now = Interlocked.Increment(ref runningOn[server]);
            if (now != 1 && !overstay)
            {
                violations.Enqueue($"{now} workers running user code on server {server}");
            }

            return server;
        }

        void Leave(int server) => Interlocked.Decrement(ref runningOn[server]);

        var handles = new WorkerHandle[Workers];
        for (int i = 0; i < Workers; i++)
        {
            int id = i;
            handles[i] = scheduler.Spawn(() =>
            {
                var rng = new Random(seed + id);
                int server = Enter();
                for (int step = 0; step < Steps; step++)
                {
                    switch (rng.Next(5))
                    {
                        case 0: // compute, with safepoints where a slice may end
                            for (int k = 0; k < 20; k++)
                            {
                                Thread.SpinWait(rng.Next(50, 500));
                                Leave(server);
                                Worker.Safepoint();
                                server = Enter();
                            }

                            break;
                        case 1: // a real blocking call inside a region
                            Leave(server);
                            using (Worker.Blocking())
                            {
                                Thread.Sleep(rng.Next(0, 2));
                            }

                            server = Enter();
                            break;
                        case 2:
                            Leave(server);
                            Worker.Yield();
                            server = Enter();
                            break;
                        case 3:
                            Leave(server);
                            Worker.Sleep(TimeSpan.FromMicroseconds(rng.Next(0, 3000)));
                            server = Enter();
                            break;
                        case 4 when overstay && rng.Next(4) == 0:
                            Leave(server);
                            for (var spin = Stopwatch.StartNew(); spin.Elapsed < TimeSpan.FromMilliseconds(3);)
                            {
                                Thread.SpinWait(20);
                            }

                            server = Enter();
                            break;
                        default:
                            Thread.SpinWait(rng.Next(10, 1000));
                            break;
                    }
                }

                Leave(server);
                Interlocked.Increment(ref completions[id]);
            }, new WorkerOptions { Priority = id % 3, Weight = 512 * (1 + (id % 3)) });
        }

        SchedulerFixture.WaitAll(scheduler, handles);
        Assert.True(violations.IsEmpty, $"seed {seed}: {string.Join("; ", violations.Take(5))}");
        Assert.All(handles, h => Assert.True(h.Completion.IsCompletedSuccessfully, h.Completion.Exception?.ToString()));
        Assert.All(completions, c => Assert.Equal(1, c));
        Watchdog.Until(() => scheduler.Stats.Completed == Workers, scheduler.Kernel, "every completion counted (after its handle completed)");
        Assert.Empty(scheduler.Faults);
    }
}
