using Xunit.Abstractions;

namespace Umcg.Tests.Threading;

/// <summary>
/// Eight stages of a hundred workers each pass a million items along bounded channels; every stage keeps
/// mutex-protected totals. Afterwards every item must have passed every stage exactly once.
/// </summary>
/// <remarks>
/// It takes minutes beside a CPU hog (10 m 52 s beside <c>stress-ng --cpu 4</c> on two CPUs), so its only
/// guard is progress: the run fails with a task dump once a whole watchdog period passes without an item
/// moving through any stage, never for its total length.
/// </remarks>
[Collection(ThreadingStress.Name)]
public sealed class PipelineStressTests(ITestOutputHelper output)
{
    private const int Stages = 8;
    private const int WorkersPerStage = 100;
    private const int Items = 1_000_000;
    private const int Capacity = 256;
    private static readonly ReceiverHandOff HandOffMode = Environment.GetEnvironmentVariable("UMCG_RUNNEXT") == "1" ? ReceiverHandOff.RunNext : ReceiverHandOff.SwitchNow;

    [Trait("Category", "Stress")]
    [Fact]
    public void A_million_items_pass_eight_stages_of_a_hundred_workers_each_accounted_for()
    {
        var scheduler = SchedulerFixture.Create(servers: 2);

        // links[s] carries items from stage s to stage s + 1. Stage 0 makes the items; the last stage keeps them.
        var links = Enumerable.Range(0, Stages - 1).Select(_ => new UmcgChannel<int>(Capacity, HandOffMode)).ToArray();
        var totals = Enumerable.Range(0, Stages).Select(_ => new StageTotals()).ToArray();
        var left = Enumerable.Repeat(WorkersPerStage, Stages).ToArray();
        var arrivals = new byte[Items];
        var clock = Stopwatch.StartNew();

        void Finished(int stage)
        {
            // The last worker of a stage closes its outgoing link: the next stage drains it and ends.
            if (Interlocked.Decrement(ref left[stage]) == 0 && stage < Stages - 1)
            {
                links[stage].Complete();
            }
        }

        var handles = new List<WorkerHandle>();
        for (int w = 0; w < WorkersPerStage; w++)
        {
            int first = w;
            handles.Add(scheduler.Spawn(() =>
            {
                for (int item = first; item < Items; item += WorkersPerStage)
                {
                    totals[0].Add(item);
                    links[0].Send(item);
                }

                Finished(0);
            }));
        }

        for (int s = 1; s < Stages; s++)
        {
            int stage = s;
            for (int w = 0; w < WorkersPerStage; w++)
            {
                handles.Add(scheduler.Spawn(() =>
                {
                    foreach (int item in links[stage - 1].ReceiveAll())
                    {
                        totals[stage].Add(item);
                        if (stage < Stages - 1)
                        {
                            links[stage].Send(item);
                        }
                        else
                        {
                            // Unsynchronised on purpose: a duplicate delivery shows as a count of 2, a loss as 0.
                            arrivals[item]++;
                        }
                    }

                    Finished(stage);
                }));
            }
        }

        ThreadingFixture.WaitAllWhileProgressing(scheduler, () => totals.Sum(t => t.CountRacy), describe: null, [.. handles]);
        output.WriteLine($"{Items:N0} items through {Stages} stages × {WorkersPerStage} workers in {clock.Elapsed.TotalSeconds:F1} s");
        output.WriteLine($"direct switches {scheduler.Stats.DirectSwitches:N0}, server switches {scheduler.CountersForTests(0).Switches + scheduler.CountersForTests(1).Switches:N0}");
        Assert.All(handles, h => Assert.True(h.Completion.IsCompletedSuccessfully, h.Completion.Exception?.ToString()));

        const long Sum = (long)Items * (Items - 1) / 2;
        for (int s = 0; s < Stages; s++)
        {
            Assert.Equal((Items, Sum), (totals[s].Count, totals[s].Sum));
        }

        Assert.All(links, link => Assert.True(link.IsCompleted));
        int missing = arrivals.Count(a => a == 0);
        int duplicated = arrivals.Count(a => a > 1);
        Assert.Equal((0, 0), (missing, duplicated));
        SchedulerFixture.Shutdown(scheduler);
    }

    /// <summary>One stage's running totals, kept under a <see cref="UmcgMutex"/> shared by its hundred workers.</summary>
    private sealed class StageTotals
    {
        private readonly UmcgMutex _mutex = new();

        private long _count;

        public long Count => _count;

        public long Sum { get; private set; }

        /// <summary>The count read without the lock, for the watchdog's progress check.</summary>
        public long CountRacy => Volatile.Read(ref _count);

        public void Add(int item)
        {
            using (_mutex.EnterScope())
            {
                _count++;
                Sum += item;
            }
        }
    }
}
