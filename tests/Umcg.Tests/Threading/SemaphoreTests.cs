namespace Umcg.Tests.Threading;

[Collection(ThreadingStress.Name)]
public sealed class SemaphoreTests
{
    [Theory, BothParkers]
    public void Never_more_holders_than_permits_and_every_permit_comes_back(string parker)
    {
        const int Permits = 3;
        const int Workers = 100;
        const int Rounds = 50;
        var scheduler = SchedulerFixture.Create(parker, servers: 2);
        var semaphore = new UmcgSemaphore(Permits);
        int inside = 0;
        int maxInside = 0;
        long entries = 0;

        void Enter(int round)
        {
            semaphore.Wait();
            int now = Interlocked.Increment(ref inside);
            int seen;
            while ((seen = Volatile.Read(ref maxInside)) < now && Interlocked.CompareExchange(ref maxInside, now, seen) != seen)
            {
            }

            Interlocked.Increment(ref entries);
            if (round % 4 == 0)
            {
                Worker.Yield();
            }

            Interlocked.Decrement(ref inside);
            semaphore.Release();
        }

        ThreadingFixture.RunOnWorkersAndThreads(scheduler, Workers, threads: 1, Rounds, Enter);
        Assert.InRange(maxInside, 1, Permits);
        Assert.Equal((Workers + 1L) * Rounds, entries);
        Assert.Equal(Permits, semaphore.CurrentCount);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void Released_permits_go_to_waiters_in_arrival_order()
    {
        const int Waiters = 10;
        var scheduler = SchedulerFixture.Create(servers: 2);
        var semaphore = new UmcgSemaphore(0);
        var order = new ConcurrentQueue<int>();
        var waiting = ThreadingFixture.StartQueuedWaiters(
            scheduler,
            Waiters,
            id =>
            {
                semaphore.Wait();
                order.Enqueue(id);
            },
            onWorker: id => id % 4 != 3,
            queued: () => semaphore.WaitersForTests);

        // One permit at a time: each goes to the oldest waiter, so the order of taking is the order of arrival.
        for (int i = 0; i < Waiters; i++)
        {
            semaphore.Release();
            int taken = i + 1;
            ThreadingFixture.Until(scheduler, () => order.Count == taken, $"permit {i} taken");
        }

        ThreadingFixture.Finish(scheduler, Task.WhenAll(waiting), "waiters");
        Assert.Equal(Enumerable.Range(0, Waiters), order);
        Assert.Equal(0, semaphore.CurrentCount);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void A_release_of_several_permits_wakes_that_many_waiters_and_keeps_the_rest()
    {
        var scheduler = SchedulerFixture.Create(servers: 1);
        var semaphore = new UmcgSemaphore(0);
        var waiters = Enumerable.Range(0, 3).Select(_ => scheduler.Spawn(semaphore.Wait)).ToArray();
        ThreadingFixture.Until(scheduler, () => semaphore.WaitersForTests == 3, "three waiters queue");
        Assert.Equal(0, semaphore.Release(5));
        SchedulerFixture.WaitAll(scheduler, waiters);
        Assert.Equal(2, semaphore.CurrentCount);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Theory, OnWorkerAndPlainThread]
    public void A_timed_wait_without_permits_gives_up_and_a_canceled_one_throws(bool onWorker)
    {
        var scheduler = SchedulerFixture.Create(servers: 1);
        var semaphore = new UmcgSemaphore(0);
        ThreadingFixture.AssertTimedAttemptsGiveUp(scheduler, timeout => semaphore.Wait(timeout), onWorker, "timed waits");
        Assert.Equal(0, semaphore.WaitersForTests);

        using var cts = new CancellationTokenSource();
        var canceled = ThreadingFixture.Start(scheduler, () => semaphore.Wait(cts.Token), onWorker);
        ThreadingFixture.Until(scheduler, () => semaphore.WaitersForTests == 1, "waiter queues");
        ThreadingFixture.CancelAndAssertCanceled(scheduler, cts, canceled);
        Assert.Equal(0, semaphore.WaitersForTests);

        // The permit released now is not lost to the canceled waiter.
        semaphore.Release();
        Assert.Equal(1, semaphore.CurrentCount);
        Assert.True(semaphore.Wait(TimeSpan.FromMilliseconds(20)));
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void Misuse_is_refused_without_changing_the_count()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new UmcgSemaphore(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new UmcgSemaphore(3, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new UmcgSemaphore(0, 0));
        var semaphore = new UmcgSemaphore(1, 2);
        Assert.Throws<ArgumentOutOfRangeException>(() => semaphore.Release(0));
        Assert.Throws<SemaphoreFullException>(() => semaphore.Release(2));
        Assert.Equal(1, semaphore.CurrentCount);
        Assert.Equal(1, semaphore.Release());
        Assert.Throws<SemaphoreFullException>(() => semaphore.Release());
        Assert.Equal(2, semaphore.CurrentCount);
        Assert.Throws<ArgumentOutOfRangeException>(() => semaphore.Wait(TimeSpan.FromMilliseconds(-2)));
    }
}
