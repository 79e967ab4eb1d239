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
        const int Workers = 1000;
        const int Steps = 12;
        int seed = Environment.TickCount;
        Func<IRunQueuePolicy> policyFactory = policy switch
        {
            "priority" => () => new PriorityPolicy(TimeSpan.FromMilliseconds(1)),
            "fairshare" => () => new FairSharePolicy(TimeSpan.FromMilliseconds(1)),
            _ => () => new FifoPolicy(TimeSpan.FromMilliseconds(2)),
        };
        // Detection off: a worker a detector marks blocked runs on, unmanaged, beside its server's next worker
        // until its next safepoint, which is exactly what this test counts as a violation. The detectors have
        // their own stress test (Detection/DetectionStressTests).
        var scheduler = SchedulerFixture.Create(parker, servers: 2, new UmcgSchedulerOptions { Policy = policyFactory, Detection = DetectionOptions.Off });
        var runningOn = new int[scheduler.ServerCount];
        var completions = new int[Workers];
        var violations = new ConcurrentQueue<string>();

        int Enter()
        {
            int server = Worker.Current!.ServerIndex;
            int now = Interlocked.Increment(ref runningOn[server]);
            if (now != 1)
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
        Assert.Equal(Workers, scheduler.Stats.Completed);
        SchedulerFixture.Shutdown(scheduler);
    }
}
