namespace Umcg.Tests.Scheduling;

/// <summary>
/// Open servers (Server.OpenStart.cs, K12): a server with nothing to run sleeps open, and the first worker that becomes
/// runnable for it starts itself — an unblock runs on with no switch, a spawn onto a pooled thread wakes that thread
/// once — counted on their own path (<see cref="SchedulerStats.DirectStarts"/>), never as a server's pick.
/// </summary>
public sealed unsafe class OpenServerTests
{
    private const int Rounds = 40;

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void A_worker_that_unblocks_while_its_server_sleeps_open_starts_itself_every_time(string parker)
    {
        var scheduler = SchedulerFixture.Create(parker, servers: 1, options: SchedulerFixture.Undetected);
        var server = scheduler.Servers[0];
        long picks = -1;
        long starts = -1;
        var h = scheduler.Spawn(() =>
        {
            // From here on every start is counted: the first one may have been a pick or a claim.
            picks = scheduler.CountersForTests(0).Switches;
            starts = scheduler.Stats.DirectStarts;
            for (int i = 0; i < Rounds; i++)
            {
                using (Worker.Blocking())
                {
                    // The block woke the server, which found nothing to run: it sleeps open.
                    Watchdog.Until(() => server.IsOpenForTests && server.WaitsForTests, scheduler.Kernel, "the server asleep open");
                }

                Assert.Equal(TaskState.Running, StateWord.StateOf(Worker.Current!.Block.Task));
            }
        });
        SchedulerFixture.WaitAll(scheduler, h);
        h.Join();

        // Every block left the server asleep open instead of waking it, and every unblock claimed it: no pick, no
        // switch through the server.
        Assert.Equal(starts + Rounds, scheduler.Stats.DirectStarts);
        Assert.Equal(picks, scheduler.CountersForTests(0).Switches);
        Assert.Equal(Rounds, scheduler.Stats.Blocks);
        // The regions, and the end of the body (before its handle completed).
        Assert.Equal(Rounds + 1, scheduler.Stats.BlocksLeftServerOpen);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void A_body_handed_to_a_pooled_thread_while_its_server_sleeps_open_starts_it_without_a_pick(string parker)
    {
        var scheduler = SchedulerFixture.Create(parker, servers: 1, options: SchedulerFixture.Undetected);
        var server = scheduler.Servers[0];
        var first = scheduler.Spawn(() => Worker.Current!.Tid);
        SchedulerFixture.WaitAll(scheduler, first);
        int tid = first.Join();
        var runs = new int[Rounds];
        for (int round = 0; round < Rounds; round++)
        {
            Watchdog.Until(
                () => scheduler.IdleAsleepForTests == 1 && server.IsOpenForTests && server.WaitsForTests,
                scheduler.Kernel,
                "the pooled thread asleep, its server asleep open");
            long picks = scheduler.CountersForTests(0).Switches;
            long starts = scheduler.Stats.DirectStarts;
            Assert.Equal(tid, SchedulerFixture.RunCountedBody(scheduler, runs, round));
            Assert.Equal(starts + 1, scheduler.Stats.DirectStarts);
            Assert.Equal(picks, scheduler.CountersForTests(0).Switches);
        }

        Assert.All(runs, r => Assert.Equal(1, r));
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void With_the_option_off_a_server_never_sleeps_open_and_every_start_is_a_pick()
    {
        var scheduler = SchedulerFixture.Create(servers: 1, options: SchedulerFixture.Undetected with { OpenIdleServers = false });
        var server = scheduler.Servers[0];
        var h = scheduler.Spawn(() =>
        {
            for (int i = 0; i < Rounds; i++)
            {
                using (Worker.Blocking())
                {
                    Watchdog.Until(() => server.WaitsForTests, scheduler.Kernel, "the server asleep");
                    Assert.False(server.IsOpenForTests);
                }
            }
        });
        SchedulerFixture.WaitAll(scheduler, h);
        h.Join();
        Assert.Equal(0, scheduler.Stats.DirectStarts);
        Assert.Equal(Rounds + 1, scheduler.CountersForTests(0).Switches);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void A_worker_started_on_an_open_server_is_counted_as_running_there_and_not_as_idle()
    {
        // Server 0 runs a worker that claimed it: another server's hand-over and a spawn's placement must see it busy.
        var scheduler = SchedulerFixture.Create(servers: 2, options: SchedulerFixture.Undetected);
        var server = scheduler.Servers[0];
        using var release = new ManualResetEventSlim();
        bool idleSeen = true;
        var h = scheduler.Spawn(
            () =>
            {
                using (Worker.Blocking())
                {
                    Watchdog.Until(() => server.IsOpenForTests && server.WaitsForTests, scheduler.Kernel, "server 0 asleep open");
                }

                // Claimed: the server sleeps on, its idle mark not yet cleared, but it runs us.
                idleSeen = server.IsIdle || !server.RunsAWorker;
                release.Wait();
            },
            new WorkerOptions { ServerAffinity = 0 });
        Watchdog.Until(() => scheduler.Stats.DirectStarts >= 1 && server.RunsAWorker, scheduler.Kernel, "the claimer runs");
        release.Set();
        SchedulerFixture.WaitAll(scheduler, h);
        Assert.False(idleSeen, "a claimed server looked idle");
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void A_worker_another_server_queues_after_the_running_worker_left_its_server_open_still_runs()
    {
        // Rounds until one reaches the window: server 0 may wake on its own and take W off its list first (it then
        // holds W parked, and the round ends the ordinary way), which no test can forbid.
        const int MaxRounds = 50;
        var scheduler = SchedulerFixture.Create(servers: 2, options: SchedulerFixture.Undetected);
        int rounds = 0;
        bool reached = false;
        while (!reached && rounds < MaxRounds)
        {
            reached = ThiefQueuesAfterTheServerWasLeftOpen(scheduler);
            rounds++;
        }

        Assert.True(reached, $"no round of {rounds} reached the window");
        SchedulerFixture.Shutdown(scheduler);
    }

    /// <summary>
    /// Server 0 runs Y; W, which parked on a mutex Y holds and switched to Y, waits on server 0's list, unparked by Y's
    /// unlock. Z, ending its body on server 1 with nothing to hand on, looks for a worker to steal and takes server 0's
    /// list; it is held there while Y ends its body: Y's stop finds the list taken and the run queue still empty, and
    /// leaves server 0 asleep open. Then Z queues W into server 0's run queue and leaves it (W is pinned, and server 0
    /// runs nobody): server 0 must be woken to run it. True if the round reached that window.
    /// </summary>
    private static bool ThiefQueuesAfterTheServerWasLeftOpen(UmcgScheduler scheduler)
    {
        var server0 = scheduler.Servers[0];
        var mutex = new UmcgMutex(MutexHandOff.Fifo);
        var onServer0 = new WorkerOptions { ServerAffinity = 0 };
        WorkerThread? y = null;
        WorkerThread? w = null;
        int yHolds = 0;
        int armed = 0;
        int held = 0;
        int zMayEnd = 0;
        int zRuns = 0;
        scheduler.AfterListTakenOffServerForTests = (server, drained) =>
        {
            if (ReferenceEquals(server, server0) && Volatile.Read(ref armed) == 1 && drained.Contains(w!.Tid)
                && Interlocked.Exchange(ref held, 1) == 0)
            {
                // Y's stop has looked at everything it will look at once its thread sleeps in the pool.
                Watchdog.Until(() => y!.IsAsleepInPoolForTests, scheduler.Kernel, "Y's thread asleep in the pool");
            }
        };

        // Z keeps server 1 busy (so that server 1 itself takes no look at server 0's list) until Y says so.
        var z = scheduler.Spawn(
            () =>
            {
                Volatile.Write(ref zRuns, 1);
                Watchdog.Until(() => Volatile.Read(ref zMayEnd) == 1, scheduler.Kernel, "Y's go-ahead");
            },
            new WorkerOptions { ServerAffinity = 1 });
        Watchdog.Until(() => Volatile.Read(ref zRuns) == 1, scheduler.Kernel, "Z running on server 1");
        var yHandle = scheduler.Spawn(
            () =>
            {
                y = WorkerThread.Current;
                mutex.Lock();
                Volatile.Write(ref yHolds, 1);

                // W runs when we yield, parks on the mutex and switches back to us; its park lands on our list.
                while (mutex.WaitersForTests == 0)
                {
                    Worker.Yield();
                }

                Watchdog.Until(() => server0.ListsForTests(w!) || w!.ParkWord.State == WorkerThread.ParkState.Parked, scheduler.Kernel, "W's park on server 0's list or held");
                Volatile.Write(ref armed, 1);
                mutex.Unlock(); // W: Parking → Unparked if still on the list
                Volatile.Write(ref zMayEnd, 1);

                // Ending before Z takes the list would let our own stop take W (no window): wait until the list is taken.
                Watchdog.Until(() => Volatile.Read(ref held) == 1 || !server0.ListsForTests(w!), scheduler.Kernel, "server 0's list taken");
            },
            onServer0);
        Watchdog.Until(() => Volatile.Read(ref yHolds) == 1, scheduler.Kernel, "Y holding the mutex");
        var wHandle = scheduler.Spawn(
            () =>
            {
                w = WorkerThread.Current;
                mutex.Lock();
                mutex.Unlock();
            },
            onServer0);

        SchedulerFixture.WaitAll(scheduler, yHandle, z, wHandle);
        Assert.False(mutex.IsHeld);
        scheduler.AfterListTakenOffServerForTests = null;
        return Volatile.Read(ref held) == 1;
    }

    [Fact]
    public void A_pick_written_while_a_block_is_leaving_the_server_open_is_started_once_the_block_is_done()
    {
        // W ends its body with nothing to hand on and leaves its server open (K12l): the mirror reads TID_OPEN, and W is
        // held before it releases the record. X leaves its blocking region meanwhile: the record still names W, so X
        // cannot claim the server and is pushed on its list. The server, woken, takes its offer back, picks X, and
        // finds in its Wait the record still naming W: it starts nobody and sleeps. W's release must wake it.
        var scheduler = SchedulerFixture.Create(servers: 1, options: SchedulerFixture.Undetected);
        var kernel = scheduler.Kernel;
        var server = scheduler.Servers[0];
        using var xGo = new ManualResetEventSlim();
        WorkerThread? xThread = null;
        int wTid = 0;
        int held = 0;
        int decided = 0;
        kernel.AfterLeaveOpenMirrorForTests = tid =>
        {
            if (tid == Volatile.Read(ref wTid) && Interlocked.Exchange(ref held, 1) == 0)
            {
                Watchdog.Until(() => Volatile.Read(ref decided) == 1, kernel, "the server's Wait deciding while W holds the record");
            }
        };
        kernel.ServerWaitDecidedForTests = (_, started) =>
        {
            if (!started && Volatile.Read(ref held) == 1 && server.SlotForTests.IsPick)
            {
                Volatile.Write(ref decided, 1);
            }
        };

        var x = scheduler.Spawn(() =>
        {
            xThread = WorkerThread.Current;
            using (Worker.Blocking())
            {
                xGo.Wait();
            }
        });
        Watchdog.Until(() => xThread is { } t && StateWord.StateOf(t.Block.Task) == TaskState.Blocked, kernel, "X in its blocking region");
        var w = scheduler.Spawn(() => Volatile.Write(ref wTid, Worker.Current!.Tid));
        Watchdog.Until(() => Volatile.Read(ref held) == 1, kernel, "W between its block's two steps");

        // X's unblock: pushed (the record names W), quietly or with a wake; a wake of our own makes sure of a turn.
        xGo.Set();
        Watchdog.Until(() => Volatile.Read(ref decided) == 1 || server.ListsForTests(xThread!), kernel, "X on the server's list");
        server.Wake();

        SchedulerFixture.WaitAll(scheduler, w, x);
        Assert.Equal(1, Volatile.Read(ref decided));
        SchedulerFixture.Shutdown(scheduler);
    }
}
