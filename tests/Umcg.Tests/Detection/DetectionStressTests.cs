namespace Umcg.Tests.Detection;

/// <summary>
/// Many workers mixing unannounced blocking (plain sleeps, contended locks) with everything the scheduler
/// does on its own (regions, yields, parking, time-slice preemption) while a detector marks them: every body
/// completes exactly once and no worker is ever removed for breaking the protocol — in particular no mark
/// lands on a worker inside its own UMCG wait.
/// </summary>
public sealed class DetectionStressTests
{
    [Trait("Category", "Stress")]
    [Theory]
    [MemberData(nameof(DetectionFixture.Modes), MemberType = typeof(DetectionFixture))]
    public void Workers_blocking_unannounced_among_everything_else_all_complete_without_faults(BlockingDetection mode)
    {
        const int Workers = 300;
        const int Steps = 10;
        int seed = Environment.TickCount;
        var scheduler = DetectionFixture.Create(mode, servers: 2, options: new UmcgSchedulerOptions { Policy = () => new FifoPolicy(TimeSpan.FromMilliseconds(1)) });
        var locks = Enumerable.Range(0, 4).Select(_ => new object()).ToArray();
        var completions = new int[Workers];
        var errors = new ConcurrentQueue<string>();

        var handles = new WorkerHandle[Workers];
        for (int i = 0; i < Workers; i++)
        {
            int id = i;
            handles[i] = scheduler.Spawn(() =>
            {
                var rng = new Random(seed + id);
                for (int step = 0; step < Steps; step++)
                {
                    switch (rng.Next(7))
                    {
                        case 0: // unannounced sleep
                            Thread.Sleep(rng.Next(0, 2));
                            break;
                        case 1: // unannounced lock contention, the holder sleeping inside
                            lock (locks[rng.Next(locks.Length)])
                            {
                                Thread.Sleep(rng.Next(0, 2));
                            }

                            break;
                        case 2:
                            using (Worker.Blocking())
                            {
                                Thread.Sleep(rng.Next(0, 2));
                            }

                            break;
                        case 3:
                            Worker.Yield();
                            break;
                        case 4:
                            Worker.Sleep(TimeSpan.FromMicroseconds(rng.Next(0, 2000)));
                            break;
                        default: // compute with safepoints, where slices end and marked workers come back
                            for (int k = 0; k < 10; k++)
                            {
                                Thread.SpinWait(rng.Next(50, 500));
                                Worker.Safepoint();
                            }

                            break;
                    }
                }

                if (!Worker.IsWorker)
                {
                    errors.Enqueue($"body {id} ended off its worker");
                }

                Interlocked.Increment(ref completions[id]);
            });
        }

        SchedulerFixture.WaitAll(scheduler, handles);
        var detector = DetectionFixture.Detector(scheduler);
        Assert.True(errors.IsEmpty, $"seed {seed}: {string.Join("; ", errors.Take(5))}");
        Assert.All(handles, h => Assert.True(h.Completion.IsCompletedSuccessfully, $"seed {seed}: {h.Completion.Exception}"));
        Assert.All(completions, c => Assert.Equal(1, c));
        Assert.True(detector.Stats.Marked >= 1, $"seed {seed}: nothing was marked");
        SchedulerFixture.Shutdown(scheduler);
    }
}
