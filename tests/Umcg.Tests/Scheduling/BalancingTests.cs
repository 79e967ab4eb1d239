namespace Umcg.Tests.Scheduling;

public sealed class BalancingTests
{
    [Theory, BothParkers]
    public void An_idle_server_takes_work_queued_on_a_busy_one(string parker)
    {
        var scheduler = SchedulerFixture.Create(parker, servers: 2);
        const int Queued = 6;
        int done = 0;

        // Server 0 is held by a worker that spins until every queued body has run. FIFO never preempts, so
        // the bodies queued on server 0 can only run if server 1 takes them.
        using var holding = new ManualResetEventSlim();
        var holder = scheduler.Spawn(() =>
        {
            holding.Set();
            while (Volatile.Read(ref done) < Queued)
            {
                Worker.Safepoint();
            }
        }, new WorkerOptions { ServerAffinity = 0 });
        holding.Wait();

        var bodies = Enumerable.Range(0, Queued)
            .Select(_ => scheduler.Spawn(() =>
            {
                int server = Worker.Current!.ServerIndex;
                Interlocked.Increment(ref done);
                return server;
            }, new WorkerOptions { PreferredServer = 0 }))
            .ToArray();

        SchedulerFixture.WaitAll(scheduler, [holder, .. bodies]);
        Assert.All(bodies, b => Assert.Equal(1, b.Join()));
        var s0 = scheduler.CountersForTests(0);
        var s1 = scheduler.CountersForTests(1);
        Assert.True(s0.HandedOver + s1.Steals >= 1, $"handed over {s0.HandedOver}, stolen {s1.Steals}");
        SchedulerFixture.Shutdown(scheduler);
    }
}
