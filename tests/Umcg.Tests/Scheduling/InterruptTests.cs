namespace Umcg.Tests.Scheduling;

/// <summary>A Thread.Interrupt left pending on a pooled worker thread belongs to nobody and must not lose later work.</summary>
public sealed class InterruptTests
{
    [Theory, BothParkers]
    public void Bodies_that_leave_an_interrupt_pending_do_not_poison_the_pool(string parker)
    {
        const int Rounds = 20;
        const int Width = 8;
        var scheduler = SchedulerFixture.Create(parker, servers: 2);
        for (int round = 0; round < Rounds; round++)
        {
            var interrupting = Enumerable.Range(0, Width).Select(_ => scheduler.Spawn(() => Thread.CurrentThread.Interrupt())).ToArray();
            SchedulerFixture.WaitAll(scheduler, interrupting);

            // These reuse the threads the interrupting bodies ran on.
            var runs = new int[Width];
            var normal = Enumerable.Range(0, Width).Select(i => scheduler.Spawn(() => Interlocked.Increment(ref runs[i]))).ToArray();
            SchedulerFixture.WaitAll(scheduler, normal);
            Assert.All(normal, h => Assert.True(h.Completion.IsCompletedSuccessfully));
            Assert.All(runs, r => Assert.Equal(1, r));
        }

        Assert.Equal(Rounds * Width, scheduler.Stats.AbsorbedInterrupts);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Theory]
    [InlineData("futex", true)]
    [InlineData("monitor", true)]
    [InlineData("futex", false)]
    [InlineData("monitor", false)]
    public void An_interrupt_sent_to_an_idle_pooled_thread_is_absorbed(string parker, bool queuedAsleep)
    {
        const int Rounds = 10;
        var scheduler = SchedulerFixture.Create(parker, servers: 1, options: SchedulerFixture.Undetected with { QueueIdleThreadsAsleep = queuedAsleep });
        for (int round = 0; round < Rounds; round++)
        {
            var first = scheduler.Spawn(() => Thread.CurrentThread);
            SchedulerFixture.WaitAll(scheduler, first);

            // The thread is back in the pool (its handle completes after it is pooled): interrupt it there, awake or
            // asleep in the kernel half (where the futex parker's wait does not see it, and the monitor parker's
            // throws it), and once asleep for sure in half the rounds.
            if (queuedAsleep && round % 2 == 1)
            {
                Watchdog.Until(() => scheduler.IdleAsleepForTests == 1, scheduler.Kernel, "the pooled thread asleep in the kernel half");
            }

            var pooled = first.Join();
            pooled.Interrupt();

            // A wait in the next body would throw an interrupt left pending.
            var next = scheduler.Spawn(() => (Thread.CurrentThread, Pending: PendingInterrupt()));
            SchedulerFixture.WaitAll(scheduler, next);
            Assert.Same(pooled, next.Join().CurrentThread);
            Assert.False(next.Join().Pending);
        }

        Assert.Equal(Rounds, scheduler.Stats.AbsorbedInterrupts);
        SchedulerFixture.Shutdown(scheduler);
    }

    private static bool PendingInterrupt()
    {
        var probe = new object();
        try
        {
            lock (probe)
            {
                Monitor.Wait(probe, 0);
            }

            return false;
        }
        catch (ThreadInterruptedException)
        {
            return true;
        }
    }
}
