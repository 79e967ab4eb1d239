namespace Umcg.Tests.Scheduling;

public sealed class SpawnTests
{
    [Theory, BothParkers]
    public async Task Spawned_bodies_run_on_workers_and_return_results(string parker)
    {
        var scheduler = SchedulerFixture.Create(parker, servers: 2);
        var onWorker = scheduler.Spawn(() => Worker.IsWorker);
        var sum = scheduler.Spawn(() => Enumerable.Range(1, 100).Sum());
        SchedulerFixture.WaitAll(scheduler, onWorker, sum);
        Assert.True(await onWorker);
        Assert.Equal(5050, sum.Join());
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void An_exception_in_one_body_surfaces_on_its_handle_and_others_keep_running()
    {
        var scheduler = SchedulerFixture.Create(servers: 1);
        var failing = scheduler.Spawn(() => throw new InvalidOperationException("boom"));
        var fine = Enumerable.Range(0, 20).Select(i => scheduler.Spawn(() => i * 2)).ToArray();
        SchedulerFixture.WaitAll(scheduler, [failing, .. fine]);
        var e = Assert.Throws<InvalidOperationException>(failing.Join);
        Assert.Equal("boom", e.Message);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => i * 2), fine.Select(h => h.Join()));
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void Worker_threads_are_reused_between_bodies()
    {
        var scheduler = SchedulerFixture.Create(servers: 1);
        var tids = new HashSet<int>();
        for (int i = 0; i < 20; i++)
        {
            var h = scheduler.Spawn(() => Worker.Current!.Tid);
            SchedulerFixture.WaitAll(scheduler, h);
            tids.Add(h.Join());
        }

        // Run one after another, each body finds the previous body's thread idle in the pool.
        Assert.Single(tids);
        Assert.Equal(19, scheduler.Stats.ReusedThreads);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void A_worker_can_join_another_body_without_holding_its_server()
    {
        var scheduler = SchedulerFixture.Create(servers: 1);

        // One server: the outer body's Join must release the CPU, or the inner body could never run.
        var outer = scheduler.Spawn(() => scheduler.Spawn(() => 41).Join() + 1);
        SchedulerFixture.WaitAll(scheduler, outer);
        Assert.Equal(42, outer.Join());
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void Bad_options_and_spawns_after_shutdown_are_refused_clearly()
    {
        var scheduler = SchedulerFixture.Create(servers: 2);
        Assert.Throws<ArgumentException>(() => scheduler.Spawn(() => { }, new WorkerOptions { ServerAffinity = 2 }));
        Assert.Throws<ArgumentException>(() => scheduler.Spawn(() => { }, new WorkerOptions { PreferredServer = -1 }));
        Assert.Throws<ArgumentException>(() => scheduler.Spawn(() => { }, new WorkerOptions { StackSize = -1 }));
        Assert.Throws<ArgumentNullException>(() => scheduler.Spawn(null!));
        SchedulerFixture.Shutdown(scheduler);
        Assert.Throws<InvalidOperationException>(() => scheduler.Spawn(() => { }));
        Assert.Throws<ArgumentException>(() => new UmcgScheduler(new UmcgSchedulerOptions { Servers = 0 }));
    }

    [Fact]
    public void Server_affinity_keeps_a_body_on_its_server()
    {
        var scheduler = SchedulerFixture.Create(servers: 2);
        var handles = Enumerable.Range(0, 10)
            .Select(i => scheduler.Spawn(() => Worker.Current!.ServerIndex, new WorkerOptions { ServerAffinity = i % 2 }))
            .ToArray();
        SchedulerFixture.WaitAll(scheduler, handles);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => i % 2), handles.Select(h => h.Join()));
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void Names_and_stack_sizes_are_kept_and_threads_are_reused_only_for_equal_stacks()
    {
        var scheduler = SchedulerFixture.Create(servers: 1);
        var big = new WorkerOptions { Name = "big stack", StackSize = 4 << 20 };

        // The stack size itself is the runtime's business; what the scheduler owes is to keep bodies on
        // threads of the stack size they asked for, and to carry the name.
        var first = scheduler.Spawn(() => (Worker.Current!.Tid, Worker.Current.Name), big);
        SchedulerFixture.WaitAll(scheduler, first);
        var plain = scheduler.Spawn(() => Worker.Current!.Tid);
        SchedulerFixture.WaitAll(scheduler, plain);
        var again = scheduler.Spawn(() => Worker.Current!.Tid, big);
        SchedulerFixture.WaitAll(scheduler, again);

        Assert.Equal("big stack", first.Join().Name);
        Assert.Equal("big stack", first.Options.Name);
        Assert.NotEqual(first.Join().Tid, plain.Join());   // a default-stack body never takes the big thread
        Assert.Equal(first.Join().Tid, again.Join());      // an equal stack size does
        SchedulerFixture.Shutdown(scheduler);
    }
}
