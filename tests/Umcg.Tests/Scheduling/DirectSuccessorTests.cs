namespace Umcg.Tests.Scheduling;

/// <summary>
/// The hot path of the scheduler: a stopping worker hands its CPU straight to its successor (Server.Handoff.cs),
/// arrivals stay quiet on a busy server, and an arrival moves to an idle server. The policy's order, its slices and
/// the counters by path must hold although the server no longer sees each switch.
/// </summary>
public sealed class DirectSuccessorTests
{
    private static UmcgSchedulerOptions Options(Func<IRunQueuePolicy>? policy = null, bool viaServer = false) =>
        SchedulerFixture.Undetected with
        {
            Policy = policy ?? (() => new FifoPolicy()),
            DirectSuccessor = !viaServer,
            QuietArrivals = !viaServer,
            OpenIdleServers = !viaServer,
        };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_block_and_a_finished_body_hand_the_cpu_to_the_next_worker_and_every_switch_is_counted_on_its_path(bool viaServer)
    {
        var scheduler = SchedulerFixture.Create(servers: 1, options: Options(viaServer: viaServer));
        using var gate = new ManualResetEventSlim();
        var order = new ConcurrentQueue<string>();

        // A runs until B waits for the server, then blocks; B runs, opens A's gate, and finishes only once A waits
        // again too: each switch has exactly one worker to go to.
        var a = scheduler.Spawn(() =>
        {
            order.Enqueue("a");
            Watchdog.Until(() => scheduler.QueuedForTests(0) == 1, scheduler.Kernel, "b waits for the server");
            using (Worker.Blocking())
            {
                gate.Wait();
            }

            order.Enqueue("a again");
        });
        Watchdog.Until(() => !order.IsEmpty, scheduler.Kernel, "a runs");
        var b = scheduler.Spawn(() =>
        {
            order.Enqueue("b");
            gate.Set();
            Watchdog.Until(() => scheduler.QueuedForTests(0) == 1, scheduler.Kernel, "a waits for the server again");
        });

        SchedulerFixture.WaitAll(scheduler, a, b);
        Assert.Equal(["a", "b", "a again"], order);
        var stats = scheduler.Stats;
        long serverPicks = scheduler.CountersForTests(0).Switches;
        if (viaServer)
        {
            // a's start, b's start after a's block, a's run after b's end: all three through the server.
            Assert.Equal(0, stats.SuccessorSwitches);
            Assert.Equal(3, serverPicks);
        }
        else
        {
            // a starts on the idle server (its pick, or its own claim of the server asleep open); a's block hands the
            // CPU to b, and b's end hands it back to a.
            Assert.Equal(2, stats.SuccessorSwitches);
            Assert.Equal(1, serverPicks + stats.DirectStarts);
        }

        Assert.Equal(0, stats.DirectSwitches);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void Strict_priority_order_holds_when_each_finishing_worker_picks_its_successor()
    {
        var scheduler = SchedulerFixture.Create(servers: 1, options: Options(() => new PriorityPolicy(Timeout.InfiniteTimeSpan)));

        // Lower ranks than the busy worker's: they arrive quietly and wait on the server's list, not in its queue.
        var order = SchedulerFixture.RunFiveLowOneHighBehindABusyWorker(
            scheduler,
            beforeRelease: () => Assert.Equal(0, scheduler.Servers[0].QueueLength));
        Assert.Equal(["high", "low0", "low1", "low2", "low3", "low4"], order);

        // The busy worker's end drained the list and handed its CPU to high, and so on down the queue. The busy worker
        // itself started on the idle server: its pick, or its claim of the server asleep open.
        Assert.Equal(6, scheduler.Stats.SuccessorSwitches);
        Assert.Equal(1, scheduler.CountersForTests(0).Switches + scheduler.Stats.DirectStarts);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void A_yield_switches_to_an_equal_priority_worker_and_keeps_the_cpu_before_a_lower_one()
    {
        var scheduler = SchedulerFixture.Create(servers: 1, options: Options(() => new PriorityPolicy(Timeout.InfiniteTimeSpan)));
        int lowRan = 0;
        int equalRan = 0;
        bool lowRanBeforeYieldReturned = true;
        bool equalRanBeforeYieldReturned = false;
        long switchesBefore = 0;
        long switchesAfterFirstYield = 0;

        using var lowSpawned = new ManualResetEventSlim();
        using var firstYieldDone = new ManualResetEventSlim();
        using var equalSpawned = new ManualResetEventSlim();
        var yielder = scheduler.Spawn(
            () =>
            {
                lowSpawned.Wait();
                Watchdog.Until(() => scheduler.QueuedForTests(0) == 1, scheduler.Kernel, "the low worker waits");
                switchesBefore = scheduler.Stats.SuccessorSwitches;
                Worker.Yield();
                lowRanBeforeYieldReturned = Volatile.Read(ref lowRan) == 1;
                switchesAfterFirstYield = scheduler.Stats.SuccessorSwitches;
                firstYieldDone.Set();

                equalSpawned.Wait();
                Watchdog.Until(() => scheduler.QueuedForTests(0) == 2, scheduler.Kernel, "the equal worker waits");
                Worker.Yield();
                equalRanBeforeYieldReturned = Volatile.Read(ref equalRan) == 1;
            },
            new WorkerOptions { Priority = 10 });
        Watchdog.Until(() => scheduler.WorkerThreadCountForTests == 1, scheduler.Kernel, "the yielder's thread");
        var low = scheduler.Spawn(() => Volatile.Write(ref lowRan, 1), new WorkerOptions { Priority = 1 });
        lowSpawned.Set();
        Watchdog.Until(() => firstYieldDone.IsSet, scheduler.Kernel, "the first yield");
        var equal = scheduler.Spawn(() => Volatile.Write(ref equalRan, 1), new WorkerOptions { Priority = 10 });
        equalSpawned.Set();

        SchedulerFixture.WaitAll(scheduler, yielder, low, equal);
        Assert.False(lowRanBeforeYieldReturned, "a yield gave the CPU to a lower priority");
        Assert.Equal(switchesBefore, switchesAfterFirstYield);
        Assert.True(equalRanBeforeYieldReturned, "a yield did not let an equal priority run");
        Assert.Equal(2, scheduler.Stats.Yields);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void A_successor_the_server_did_not_pick_is_still_sliced()
    {
        // One server, FIFO with a 1 ms slice. The CPU-bound worker is started by a block's handoff, not by the
        // server, and loops on safepoints until the worker queued behind it has run: only a slice the server
        // measures for a worker it never picked lets this finish.
        var scheduler = SchedulerFixture.Create(servers: 1, options: Options(() => new FifoPolicy(TimeSpan.FromMilliseconds(1))));
        using var gate = new ManualResetEventSlim();
        int lastRan = 0;
        int spinnerStarted = 0;
        var first = scheduler.Spawn(() =>
        {
            Watchdog.Until(() => scheduler.QueuedForTests(0) == 2, scheduler.Kernel, "the spinner and the last worker wait");
            using (Worker.Blocking())
            {
                gate.Wait();
            }
        });
        var spinner = scheduler.Spawn(() =>
        {
            Volatile.Write(ref spinnerStarted, 1);
            while (Volatile.Read(ref lastRan) == 0)
            {
                Worker.Safepoint();
            }
        });
        var last = scheduler.Spawn(() => Volatile.Write(ref lastRan, 1));
        Watchdog.Until(() => Volatile.Read(ref lastRan) == 1, scheduler.Kernel, "the worker queued behind the spinner runs");
        gate.Set();

        SchedulerFixture.WaitAll(scheduler, first, spinner, last);
        Assert.Equal(1, Volatile.Read(ref spinnerStarted));
        Assert.True(scheduler.Stats.SuccessorSwitches >= 1, "the spinner was not started by a handoff");
        Assert.True(scheduler.CountersForTests(0).Preemptions >= 1);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void A_worker_leaving_a_blocking_region_while_its_server_is_busy_runs_on_an_idle_server()
    {
        var scheduler = SchedulerFixture.Create(servers: 2, options: Options());
        using var gate = new ManualResetEventSlim();
        int home = -1;
        int ranOn = -1;
        var mover = scheduler.Spawn(() =>
        {
            Volatile.Write(ref home, Worker.Current!.ServerIndex);
            using (Worker.Blocking())
            {
                gate.Wait();
            }

            Volatile.Write(ref ranOn, Worker.Current!.ServerIndex);
        });
        Watchdog.Until(() => Volatile.Read(ref home) >= 0, scheduler.Kernel, "the mover runs");

        // Its home server is held by a worker that spins without a safepoint until the mover has run again: this
        // ends only if the mover ran elsewhere.
        var busy = scheduler.Spawn(
            () => Watchdog.Until(() => Volatile.Read(ref ranOn) >= 0, scheduler.Kernel, "the mover runs again"),
            new WorkerOptions { ServerAffinity = home });
        Watchdog.Until(() => scheduler.Servers[home].RunsAWorker && scheduler.Servers[1 - home].IsIdle, scheduler.Kernel, "home busy, the other server idle");
        gate.Set();

        SchedulerFixture.WaitAll(scheduler, mover, busy);
        Assert.Equal(1 - home, ranOn);
        Assert.Equal(1, scheduler.Stats.ArrivalsMovedToIdleServers);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_worker_that_blocks_with_nothing_queued_takes_its_successor_from_a_busy_server(bool viaServer)
    {
        var scheduler = SchedulerFixture.Create(servers: 2, options: Options(viaServer: viaServer));
        using var gate = new ManualResetEventSlim();
        int ranOn = -1;
        bool blockerRuns = false;

        // Server 0 is held by a worker without safepoints until the stolen worker has run: it can run only elsewhere.
        var holder = scheduler.Spawn(
            () => Watchdog.Until(() => Volatile.Read(ref ranOn) >= 0, scheduler.Kernel, "the stolen worker runs"),
            new WorkerOptions { ServerAffinity = 0 });
        Watchdog.Until(() => scheduler.Servers[0].RunsAWorker, scheduler.Kernel, "the holder runs");

        // Server 1's worker blocks once the other worker waits on server 0: its own server has nothing queued.
        var blocker = scheduler.Spawn(
            () =>
            {
                Volatile.Write(ref blockerRuns, true);
                // Via the server, the arrival wakes server 0, and only its run queue is stolen from (a thief drains no
                // list then): wait until it is there. Directly, the arrival stays quiet on server 0's list, which the
                // stealing worker drains — or, if server 0 was woken for it (another server looked idle when it last
                // slept), in its run queue. Either way server 0 must be back asleep: while it takes its turn the
                // worker may be out of both for a moment, and the block would find nothing to steal.
                Watchdog.Until(
                    () => (viaServer ? scheduler.Servers[0].QueueLength == 1 : scheduler.QueuedForTests(0) == 1)
                        && scheduler.Servers[0].WaitsForTests,
                    scheduler.Kernel,
                    "the other worker waits on server 0, asleep");
                using (Worker.Blocking())
                {
                    gate.Wait();
                }
            },
            new WorkerOptions { ServerAffinity = 1 });
        Watchdog.Until(() => Volatile.Read(ref blockerRuns), scheduler.Kernel, "the blocker runs");

        var stolen = scheduler.Spawn(
            () =>
            {
                Volatile.Write(ref ranOn, Worker.Current!.ServerIndex);
                gate.Set();
            },
            new WorkerOptions { PreferredServer = 0 });

        SchedulerFixture.WaitAll(scheduler, holder, blocker, stolen);
        Assert.Equal(1, ranOn);
        if (viaServer)
        {
            // The block woke server 1, which stole the worker itself (S4) and ran it.
            Assert.Equal(0, scheduler.Stats.SuccessorSteals);
            Assert.Equal(1, scheduler.CountersForTests(1).Steals);
            Assert.Equal(0, scheduler.CountersForTests(0).HandedOver);
        }
        else
        {
            // The blocking worker took it from server 0's queue and switched to it: server 1 never looked.
            Assert.Equal(1, scheduler.Stats.SuccessorSteals);
            Assert.Equal(0, scheduler.CountersForTests(1).Steals);
        }

        SchedulerFixture.Shutdown(scheduler);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_worker_asked_to_give_way_hands_its_cpu_to_the_urgent_worker_itself(bool viaServer)
    {
        // Demotion off: on a loaded machine the low worker can miss its grace period, and its server would then run the
        // urgent worker itself (D1–D3), a path of its own with its own tests.
        var scheduler = SchedulerFixture.Create(
            servers: 1,
            options: Options(() => new PriorityPolicy(Timeout.InfiniteTimeSpan), viaServer) with { Demotion = Umcg.Scheduling.Demotion.DemotionOptions.Off });

        // A low worker computes, with safepoints, until the urgent one has run: on one server only a give-way lets it.
        SchedulerFixture.RunCpuBoundUntilPreempted(scheduler, new WorkerOptions { Priority = 0 }, new WorkerOptions { Priority = 20 });
        var counters = scheduler.CountersForTests(0);
        Assert.True(counters.Preemptions >= 1);
        if (viaServer)
        {
            // The low worker's start, the urgent one's after the give-way (K5), the low one's again after its end.
            Assert.Equal(3, counters.Switches);
            Assert.Equal(0, scheduler.Stats.SuccessorSwitches);
        }
        else
        {
            // The low worker starts on the idle server (picked, or claiming it asleep open); the give-way at its
            // safepoint hands the CPU to the urgent worker, whose end hands it back: the server only asked.
            Assert.Equal(1, counters.Switches + scheduler.Stats.DirectStarts);
            Assert.Equal(2, scheduler.Stats.SuccessorSwitches);
        }

        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void A_worker_asked_to_give_way_while_another_server_idles_moves_there_at_once()
    {
        var scheduler = SchedulerFixture.Create(
            servers: 2,
            options: Options(() => new PriorityPolicy(Timeout.InfiniteTimeSpan)) with { Demotion = Umcg.Scheduling.Demotion.DemotionOptions.Off });
        bool lowRuns = false;
        bool urgentRuns = false;
        int lowResumedOn = -1;

        // The low worker computes on server 0, with safepoints, until the urgent one runs there; then says where it runs.
        var low = scheduler.Spawn(
            () =>
            {
                Volatile.Write(ref lowRuns, true);
                Watchdog.UntilAtSafepoints(() => Volatile.Read(ref urgentRuns), scheduler.Kernel, "the urgent worker runs");
                Volatile.Write(ref lowResumedOn, Worker.Current!.ServerIndex);
            },
            new WorkerOptions { Priority = 0, PreferredServer = 0 });
        Watchdog.Until(() => Volatile.Read(ref lowRuns) && scheduler.Servers[1].IsIdle, scheduler.Kernel, "low runs, server 1 idles");

        // The urgent worker holds server 0 until the low one has run again: only server 1 can run it meanwhile, and
        // nothing but the give-way's own trip through server 0 (S5) tells server 1 about it.
        var urgent = scheduler.Spawn(
            () =>
            {
                Volatile.Write(ref urgentRuns, true);
                Watchdog.UntilAtSafepoints(() => Volatile.Read(ref lowResumedOn) >= 0, scheduler.Kernel, "the low worker runs again");
            },
            new WorkerOptions { Priority = 20, ServerAffinity = 0 });

        SchedulerFixture.WaitAll(scheduler, low, urgent);
        Assert.Equal(1, lowResumedOn);
        SchedulerFixture.Shutdown(scheduler);
    }
}
