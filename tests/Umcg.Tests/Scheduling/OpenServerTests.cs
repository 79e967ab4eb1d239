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
}
