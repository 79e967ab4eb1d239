namespace Umcg.Tests.Scheduling;

/// <summary>
/// The idle pool: a pooled thread sleeps in the kernel half (K11) and a spawn queues it for its server without
/// waking it (UmcgSchedulerOptions.QueueIdleThreadsAsleep); a body bound for a server takes a thread last on it.
/// </summary>
public sealed class IdlePoolTests
{
    [Theory]
    [InlineData("futex", true)]
    [InlineData("monitor", true)]
    [InlineData("futex", false)]
    [InlineData("monitor", false)]
    public void A_spawn_queues_a_thread_asleep_in_the_pool_without_waking_it(string parker, bool queuedAsleep)
    {
        const int Rounds = 50;
        var scheduler = SchedulerFixture.Create(parker, servers: 2, options: SchedulerFixture.Undetected with { QueueIdleThreadsAsleep = queuedAsleep });
        var first = scheduler.Spawn(() => Worker.Current!.Tid);
        SchedulerFixture.WaitAll(scheduler, first);
        int tid = first.Join();
        var runs = new int[Rounds];
        for (int round = 0; round < Rounds; round++)
        {
            if (queuedAsleep)
            {
                Watchdog.Until(() => scheduler.IdleAsleepForTests == 1, scheduler.Kernel, "the pooled thread asleep in the kernel half");
            }

            long before = scheduler.Stats.SpawnsQueuedAsleep;
            Assert.Equal(tid, SchedulerFixture.RunCountedBody(scheduler, runs, round));
            Assert.Equal(queuedAsleep ? before + 1 : 0, scheduler.Stats.SpawnsQueuedAsleep);
        }

        Assert.All(runs, r => Assert.Equal(1, r));
        Assert.Equal(Rounds, scheduler.Stats.ReusedThreads);

        // Shutdown wakes the sleeping thread the same way, to leave.
        SchedulerFixture.Shutdown(scheduler);
        Assert.Equal(0, scheduler.WorkerThreadCountForTests);
    }

    [Theory, BothParkers]
    public void Concurrent_spawners_on_a_pool_of_sleeping_threads_run_every_body_exactly_once(string parker)
    {
        const int Spawners = 4;
        const int PerSpawner = 500;
        var scheduler = SchedulerFixture.Create(parker, servers: 2);
        var runs = new int[Spawners * PerSpawner];
        var handles = new WorkerHandle[Spawners * PerSpawner];
        var spawners = Enumerable.Range(0, Spawners).Select(s => new Thread(() =>
        {
            for (int k = 0; k < PerSpawner; k++)
            {
                int i = (s * PerSpawner) + k;
                handles[i] = scheduler.Spawn(() =>
                {
                    Interlocked.Increment(ref runs[i]);
                    if ((i & 7) == 0)
                    {
                        Worker.Yield();
                    }
                });

                // Every few spawns, wait for the body: its thread goes back to the pool and to sleep, so the next
                // spawns find threads asleep as well as awake.
                if ((k & 3) == 0)
                {
                    SchedulerFixture.WaitAll(scheduler, handles[i]);
                }
            }
        })).ToArray();
        foreach (var t in spawners)
        {
            t.Start();
        }

        Watchdog.Join(scheduler.Kernel, spawners);

        SchedulerFixture.WaitAll(scheduler, handles);
        Assert.All(runs, r => Assert.Equal(1, r));
        Assert.True(scheduler.Stats.SpawnsQueuedAsleep > 0, "no spawn found a thread asleep in the pool");
        SchedulerFixture.Shutdown(scheduler);
        Assert.Equal(0, scheduler.WorkerThreadCountForTests);
    }

    [Fact]
    public void A_body_bound_for_a_server_takes_the_pooled_thread_last_on_that_server()
    {
        var scheduler = SchedulerFixture.Create(servers: 2, options: SchedulerFixture.Undetected);
        var gate = new ManualResetEventSlim();
        WorkerHandle<Thread> On(int server, bool wait) => scheduler.Spawn(
            () =>
            {
                if (wait)
                {
                    using (Worker.Blocking())
                    {
                        gate.Wait();
                    }
                }

                return Thread.CurrentThread;
            },
            new WorkerOptions { PreferredServer = server });

        // Two threads at once, one per server, then both pooled: one of them is on top of the stack, and the other must
        // be found under it for the bodies bound for its server.
        var on0 = On(0, wait: true);
        var on1 = On(1, wait: true);
        Watchdog.Until(() => scheduler.Stats.Blocks == 2, scheduler.Kernel, "both bodies in their regions");
        gate.Set();
        SchedulerFixture.WaitAll(scheduler, on0, on1);
        Watchdog.Until(() => scheduler.IdleWorkerThreadCount == 2, scheduler.Kernel, "both threads pooled");

        for (int round = 0; round < 10; round++)
        {
            int server = round % 2;
            var again = On(server, wait: false);
            SchedulerFixture.WaitAll(scheduler, again);
            Assert.Same(server == 0 ? on0.Join() : on1.Join(), again.Join());
            Watchdog.Until(() => scheduler.IdleWorkerThreadCount == 2, scheduler.Kernel, "both threads pooled again");
        }

        SchedulerFixture.Shutdown(scheduler);
    }

    [Theory, BothParkers]
    public void A_thread_claimed_after_its_offer_ends_its_region_itself_and_runs_the_body(string parker)
    {
        // Hold the pooled thread between its offer (the kernel-only Idle mark set) and its CAS to Asleep, spawn then:
        // the releaser finds it Pooled, claims it and sets its event; the thread's CAS fails, and its own SysExit takes
        // the standing Idle mark.
        var scheduler = SchedulerFixture.Create(parker, servers: 1, options: SchedulerFixture.Undetected);
        using var offered = new ManualResetEventSlim();
        using var go = new ManualResetEventSlim();
        scheduler.AfterIdleOfferForTests = _ =>
        {
            offered.Set();
            go.Wait();
            return true;
        };
        var first = scheduler.Spawn(() => Worker.Current!.Tid);
        SchedulerFixture.WaitAll(scheduler, first);
        var second = SpawnWhileHeld(scheduler, offered, go);
        SchedulerFixture.WaitAll(scheduler, second);
        Assert.Equal(first.Join(), second.Join());
        Assert.Equal(0, scheduler.Stats.SpawnsQueuedAsleep);

        // The next idle period, unhindered (the hook, if the thread still reads it, finds `go` set), ends asleep and is
        // queued by the spawner.
        scheduler.AfterIdleOfferForTests = null;
        Watchdog.Until(() => scheduler.IdleAsleepForTests == 1, scheduler.Kernel, "the pooled thread asleep in the kernel half");
        var third = scheduler.Spawn(() => Worker.Current!.Tid);
        SchedulerFixture.WaitAll(scheduler, third);
        Assert.Equal(first.Join(), third.Join());
        Assert.Equal(1, scheduler.Stats.SpawnsQueuedAsleep);
        SchedulerFixture.Shutdown(scheduler);
    }

    private static WorkerHandle<int> SpawnWhileHeld(UmcgScheduler scheduler, ManualResetEventSlim offered, ManualResetEventSlim go)
    {
        Watchdog.Until(() => offered.IsSet, scheduler.Kernel, "the pooled thread held after its offer");
        var handle = scheduler.Spawn(() => Worker.Current!.Tid);
        go.Set();
        return handle;
    }

    [Theory, BothParkers]
    public void A_thread_asleep_in_the_pool_evicted_for_a_body_of_another_stack_size_leaves_and_the_body_runs(string parker)
    {
        // One worker thread at most: a body of another stack size finds no slot, is queued, and evicts the idle thread.
        var scheduler = SchedulerFixture.Create(parker, servers: 1, options: SchedulerFixture.Undetected with { MaxWorkers = 1 });
        var first = scheduler.Spawn(() => Thread.CurrentThread);
        SchedulerFixture.WaitAll(scheduler, first);
        Watchdog.Until(() => scheduler.IdleAsleepForTests == 1, scheduler.Kernel, "the pooled thread asleep in the kernel half");

        var other = scheduler.Spawn(() => Thread.CurrentThread, new WorkerOptions { StackSize = 512 * 1024 });
        SchedulerFixture.WaitAll(scheduler, other);
        Assert.NotSame(first.Join(), other.Join());
        Watchdog.Until(() => !first.Join().IsAlive, scheduler.Kernel, "the evicted thread gone");
        Assert.Equal(0, scheduler.Stats.SpawnsQueuedAsleep); // an exit order, not a body
        SchedulerFixture.Shutdown(scheduler);
        Assert.Equal(0, scheduler.WorkerThreadCountForTests);
    }
}
