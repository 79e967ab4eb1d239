using Umcg.Kernel.Native;

namespace Umcg.Tests.Scheduling;

/// <summary>
/// Batch while blocked (WorkerThread.OsClass.cs): a worker waits for the end of a blocking region under SCHED_BATCH
/// when its arrival will be quiet, and is under SCHED_OTHER again once it yields, parks or idles. The policy is read
/// with sched_getattr, on the thread itself and from outside.
/// </summary>
public sealed class BatchWhileBlockedTests
{
    private static int PolicyOf(int tid)
    {
        Assert.Equal(0, LinuxSyscalls.GetSchedPolicy(tid, out int policy, out _, out _));
        return policy;
    }

    /// <summary>Waits (on the worker) until its server has published the margin it sleeps with: the region's choice reads it.</summary>
    private static void AwaitServerAsleepWithMargin(UmcgScheduler scheduler)
    {
        var w = Worker.Current!;
        Watchdog.Until(() => w.Server.QuietMargin != 0, scheduler.Kernel, "the server publishes its quiet margin");
    }

    /// <summary>
    /// On a worker: the policy its thread has inside a blocking region entered while its server's margin is published.
    /// The server may take another turn between our look and the region (its margin is 0 while it is awake): then
    /// the region rightly stays SCHED_OTHER, and we try again, up to <paramref name="attempts"/> regions, until one
    /// runs SCHED_BATCH. Returns the last policy seen.
    /// </summary>
    private static int PolicyInRegion(UmcgScheduler scheduler, int attempts = 50)
    {
        int policy = -1;
        for (int i = 0; i < attempts && policy != LinuxSyscalls.SchedBatch; i++)
        {
            AwaitServerAsleepWithMargin(scheduler);
            using (Worker.Blocking())
            {
                policy = PolicyOf(0);
            }
        }

        return policy;
    }

    [Fact]
    public void A_worker_blocked_in_a_region_runs_SCHED_BATCH_and_SCHED_OTHER_again_once_it_yields_or_parks()
    {
        var scheduler = SchedulerFixture.Create(servers: 1, options: SchedulerFixture.Undetected);
        var h = scheduler.Spawn(() =>
        {
            int tid = Worker.Current!.Tid;
            int before = PolicyOf(0);
            int inRegion = PolicyInRegion(scheduler);

            int runningAfter = PolicyOf(tid); // read as another thread would: sched_getattr on the TID
            Worker.Yield();
            int afterYield = PolicyOf(0);

            Assert.Equal(LinuxSyscalls.SchedBatch, PolicyInRegion(scheduler));
            Worker.Sleep(TimeSpan.FromMilliseconds(1));
            int afterPark = PolicyOf(0);
            return (before, inRegion, runningAfter, afterYield, afterPark);
        });
        SchedulerFixture.WaitAll(scheduler, h);
        var (before, inRegion, runningAfter, afterYield, afterPark) = h.Join();
        Assert.Equal(LinuxSyscalls.SchedOther, before);
        Assert.Equal(LinuxSyscalls.SchedBatch, inRegion);

        // Kept while it runs on: only the class it is woken in counts, and a change costs a system call.
        Assert.Equal(LinuxSyscalls.SchedBatch, runningAfter);
        Assert.Equal(LinuxSyscalls.SchedOther, afterYield);
        Assert.Equal(LinuxSyscalls.SchedOther, afterPark);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void A_worker_whose_arrival_must_wake_its_server_keeps_SCHED_OTHER_in_a_region()
    {
        // Priority 20 under PriorityPolicy: an arrival that preempts a lower level, so it must reach its server at once.
        var scheduler = SchedulerFixture.Create(servers: 1, options: SchedulerFixture.Undetected with { Policy = () => new PriorityPolicy(Timeout.InfiniteTimeSpan) });
        int Body() => PolicyInRegion(scheduler, attempts: 20);

        var high = scheduler.Spawn(Body, new WorkerOptions { Priority = 20 });
        SchedulerFixture.WaitAll(scheduler, high);
        var low = scheduler.Spawn(Body, new WorkerOptions { Priority = 0 });
        SchedulerFixture.WaitAll(scheduler, low);
        Assert.Equal(LinuxSyscalls.SchedOther, high.Join());
        Assert.Equal(LinuxSyscalls.SchedBatch, low.Join());
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void A_pooled_thread_idles_under_SCHED_OTHER_and_the_option_off_keeps_SCHED_OTHER()
    {
        var scheduler = SchedulerFixture.Create(servers: 1, options: SchedulerFixture.Undetected);
        int tid = 0;
        var first = scheduler.Spawn(() =>
        {
            tid = Worker.Current!.Tid;
            return PolicyInRegion(scheduler);
        });
        SchedulerFixture.WaitAll(scheduler, first);
        Assert.Equal(LinuxSyscalls.SchedBatch, first.Join());
        Watchdog.Until(() => scheduler.IdleWorkerThreadCount == 1, scheduler.Kernel, "the thread offers itself to the pool");
        Assert.Equal(LinuxSyscalls.SchedOther, PolicyOf(tid));
        SchedulerFixture.Shutdown(scheduler);

        var off = SchedulerFixture.Create(servers: 1, options: SchedulerFixture.Undetected with { BatchWhileBlocked = false });
        var h = off.Spawn(() => PolicyInRegion(off, attempts: 5));
        SchedulerFixture.WaitAll(off, h);
        Assert.Equal(LinuxSyscalls.SchedOther, h.Join());
        SchedulerFixture.Shutdown(off);
    }

    /// <summary>
    /// On one server, a first worker (priority 0) loops at safepoints until a second one (<paramref name="secondPriority"/>)
    /// has run, so the second runs only when the first gives way. Returns the first worker's policy as the second read it
    /// while the first waited, and as the first read it once it ran again.
    /// </summary>
    private static (int WhileWaiting, int AfterResuming) PoliciesAroundAGiveWay(UmcgScheduler scheduler, int secondPriority)
    {
        int firstTid = 0;
        bool secondRan = false;
        var first = scheduler.Spawn(() =>
        {
            Volatile.Write(ref firstTid, Worker.Current!.Tid);
            Watchdog.UntilAtSafepoints(() => Volatile.Read(ref secondRan), scheduler.Kernel, "the second worker runs");
            return PolicyOf(0);
        }, new WorkerOptions { Priority = 0 });
        Watchdog.Until(() => Volatile.Read(ref firstTid) != 0, scheduler.Kernel, "the first worker runs");

        var second = scheduler.Spawn(() =>
        {
            int whileWaiting = PolicyOf(Volatile.Read(ref firstTid));
            Volatile.Write(ref secondRan, true);
            return whileWaiting;
        }, new WorkerOptions { Priority = secondPriority });
        SchedulerFixture.WaitAll(scheduler, first, second);
        return (second.Join(), first.Join());
    }

    /// <summary>
    /// B2g: a worker asked to give way to a higher priority waits under SCHED_BATCH, so that the wake from the worker
    /// that outranked it, which comes a moment before that worker's own stop, does not cut the stop short. Read by
    /// the outranking body while the other waits, and by the worker itself once it runs again (it keeps the class).
    /// With the option off it stays SCHED_OTHER.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_worker_that_gives_way_waits_under_SCHED_BATCH_unless_the_option_is_off(bool batchWhileBlocked)
    {
        var options = SchedulerFixture.Undetected with
        {
            Policy = () => new PriorityPolicy(Timeout.InfiniteTimeSpan),
            BatchWhileBlocked = batchWhileBlocked,
        };
        var scheduler = SchedulerFixture.Create(servers: 1, options: options);
        var (whileWaiting, afterResuming) = PoliciesAroundAGiveWay(scheduler, secondPriority: 20);

        int expected = batchWhileBlocked ? LinuxSyscalls.SchedBatch : LinuxSyscalls.SchedOther;
        Assert.Equal(expected, whileWaiting);
        Assert.Equal(expected, afterResuming);
        SchedulerFixture.Shutdown(scheduler);
    }

    /// <summary>
    /// B2g is for a successor that outranks: a worker whose slice ran out gives way to an equal rank, which will give
    /// way back (or block) with nothing left to do first, so it waits under SCHED_OTHER as any yielder (B2).
    /// </summary>
    [Fact]
    public void A_worker_that_gives_way_to_an_equal_rank_at_the_end_of_its_slice_waits_under_SCHED_OTHER()
    {
        var options = SchedulerFixture.Undetected with { Policy = () => new PriorityPolicy(TimeSpan.FromMilliseconds(2)) };
        var scheduler = SchedulerFixture.Create(servers: 1, options: options);
        Assert.Equal(LinuxSyscalls.SchedOther, PoliciesAroundAGiveWay(scheduler, secondPriority: 0).WhileWaiting);
        SchedulerFixture.Shutdown(scheduler);
    }

    /// <summary>
    /// Q4: a margin that Q2 zeroed while another server idled outlives that idleness. With no other server idle any
    /// more (here: none at all) a region entered under the zeroed margin waits under SCHED_BATCH by the margin the
    /// policy last gave; its arrival still wakes the server (the kernel half judges by the published 0), whose turn
    /// publishes the margin again.
    /// </summary>
    [Fact]
    public void A_margin_zeroed_for_a_server_no_longer_idle_still_lets_a_region_wait_under_SCHED_BATCH()
    {
        var scheduler = SchedulerFixture.Create(servers: 1, options: SchedulerFixture.Undetected);
        var h = scheduler.Spawn(() =>
        {
            var server = Worker.Current!.Server;
            AwaitServerAsleepWithMargin(scheduler);

            // The server sleeps while we run, and nothing else runs to wake it: the zeroed margin holds at the region.
            server.RevokeMarginForTests();
            int marginAtEntry = server.QuietMargin;
            using (Worker.Blocking())
            {
                return (marginAtEntry, PolicyOf(0));
            }
        });
        SchedulerFixture.WaitAll(scheduler, h);
        var (marginAtEntry, policy) = h.Join();
        Assert.Equal(0, marginAtEntry);
        Assert.Equal(LinuxSyscalls.SchedBatch, policy);
        SchedulerFixture.Shutdown(scheduler);
    }

    /// <summary>
    /// Q4's guess holds while another server idles too: Q2 zeroes the published margin for the idle server's sake, but
    /// the region's arrival comes a blocking call later, when the idle server has most often found work again. The
    /// worker waits under SCHED_BATCH by the margin the policy last gave; the kernel half still judges the arrival by
    /// the published 0 (wake-to-remote-idle is not this choice's: it happens as the worker leaves the region).
    /// </summary>
    [Fact]
    public void A_region_waits_under_SCHED_BATCH_while_another_server_idles()
    {
        var scheduler = SchedulerFixture.Create(servers: 2, options: SchedulerFixture.Undetected);
        Watchdog.Until(() => scheduler.Servers[1].IsIdle, scheduler.Kernel, "server 1 idles");
        var h = scheduler.Spawn(
            () =>
            {
                var server = Worker.Current!.Server;

                // Q4 guesses by the margin published for a running worker: wait until our server has slept once while
                // we run (it may not have yet when we start), or the first region would rightly wait under SCHED_OTHER.
                Watchdog.Until(() => server.MarginHintForTests != 0, scheduler.Kernel, "the server publishes a margin for us");
                var entries = new List<(int Margin, bool OtherIdle, int Policy)>();
                for (int i = 0; i < 5; i++)
                {
                    int margin = server.QuietMargin;
                    bool otherIdle = scheduler.Servers[1].IsIdle;
                    using (Worker.Blocking())
                    {
                        entries.Add((margin, otherIdle, PolicyOf(0)));
                    }
                }

                return entries;
            },
            new WorkerOptions { ServerAffinity = 0 });
        SchedulerFixture.WaitAll(scheduler, h);
        Assert.All(h.Join(), e =>
        {
            Assert.True(e.OtherIdle, "server 1 idled at every entry");
            Assert.Equal(0, e.Margin);
            Assert.Equal(LinuxSyscalls.SchedBatch, e.Policy);
        });
        SchedulerFixture.Shutdown(scheduler);
    }
}
