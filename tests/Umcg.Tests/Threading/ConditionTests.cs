namespace Umcg.Tests.Threading;

[Collection(ThreadingStress.Name)]
public sealed class ConditionTests
{
    /// <summary>Both parkers, each under a mutex in each hand-off mode.</summary>
    public static TheoryData<string, MutexHandOff> ParkersAndModes => new()
    {
        { "futex", MutexHandOff.Fifo },
        { "monitor", MutexHandOff.Fifo },
        { "futex", MutexHandOff.Barging },
        { "monitor", MutexHandOff.Barging },
    };

    [Theory]
    [MemberData(nameof(ParkersAndModes))]
    public void A_bounded_buffer_built_on_conditions_loses_no_item_and_no_notification(string parker, MutexHandOff handOff)
    {
        const int Producers = 40;
        const int Consumers = 40;
        const int PerProducer = 250;
        const int Capacity = 4;
        var scheduler = SchedulerFixture.Create(parker, servers: 2);
        var mutex = new UmcgMutex(handOff);
        var notFull = new UmcgCondition();
        var notEmpty = new UmcgCondition();
        var buffer = new Queue<int>();
        var received = new ConcurrentBag<int>();
        int producersLeft = Producers;

        // NotifyOne only: a lost notification would leave a consumer (or producer) waiting for ever.
        var producers = Enumerable.Range(0, Producers)
            .Select(p => scheduler.Spawn(() =>
            {
                for (int i = 0; i < PerProducer; i++)
                {
                    using (mutex.EnterScope())
                    {
                        while (buffer.Count == Capacity)
                        {
                            notFull.Wait(mutex);
                        }

                        buffer.Enqueue((p * PerProducer) + i);
                        notEmpty.NotifyOne();
                    }
                }

                using (mutex.EnterScope())
                {
                    if (--producersLeft == 0)
                    {
                        notEmpty.NotifyAll();
                    }
                }
            }))
            .ToList();
        var consumers = Enumerable.Range(0, Consumers)
            .Select(_ => scheduler.Spawn(() =>
            {
                while (true)
                {
                    using (mutex.EnterScope())
                    {
                        while (buffer.Count == 0 && producersLeft > 0)
                        {
                            notEmpty.Wait(mutex);
                        }

                        if (buffer.Count == 0)
                        {
                            return;
                        }

                        received.Add(buffer.Dequeue());
                        notFull.NotifyOne();
                    }
                }
            }))
            .ToList();

        SchedulerFixture.WaitAll(scheduler, [.. producers, .. consumers]);
        Assert.All(producers.Concat(consumers), h => Assert.True(h.Completion.IsCompletedSuccessfully, h.Completion.Exception?.ToString()));
        Assert.Equal(Enumerable.Range(0, Producers * PerProducer), received.Order());
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void NotifyOne_wakes_the_oldest_waiter_and_NotifyAll_the_rest()
    {
        const int Waiters = 8;
        var scheduler = SchedulerFixture.Create(servers: 2);
        var mutex = new UmcgMutex();
        var condition = new UmcgCondition();
        var order = new ConcurrentQueue<int>();
        var waiting = ThreadingFixture.StartQueuedWaiters(
            scheduler,
            Waiters,
            id =>
            {
                using (mutex.EnterScope())
                {
                    condition.Wait(mutex);
                    Assert.True(mutex.IsHeldByCurrentThread);
                    order.Enqueue(id);
                }
            },
            onWorker: id => id % 3 != 1,
            queued: () => condition.WaitersForTests);

        for (int i = 0; i < 3; i++)
        {
            Assert.True(condition.NotifyOne());
            int woken = i + 1;
            ThreadingFixture.Until(scheduler, () => order.Count == woken, $"waiter {i} wakes");
        }

        Assert.Equal(Waiters - 3, condition.NotifyAll());
        ThreadingFixture.Finish(scheduler, Task.WhenAll(waiting), "waiters");
        Assert.All(waiting, t => Assert.True(t.IsCompletedSuccessfully, t.Exception?.ToString()));
        Assert.Equal([0, 1, 2], order.Take(3));
        Assert.Equal(Enumerable.Range(0, Waiters), order.Order());
        Assert.False(condition.NotifyOne());
        Assert.Equal(0, condition.NotifyAll());
        SchedulerFixture.Shutdown(scheduler);
    }

    [Theory, OnWorkerAndPlainThread]
    public void A_timed_wait_without_notification_returns_false_holding_the_mutex(bool onWorker)
    {
        var scheduler = SchedulerFixture.Create(servers: 1);
        var mutex = new UmcgMutex();
        var condition = new UmcgCondition();
        bool notified = true;
        bool heldAfter = false;
        Action body = () =>
        {
            mutex.Lock();
            notified = condition.Wait(mutex, TimeSpan.FromMilliseconds(20));
            heldAfter = mutex.IsHeldByCurrentThread;
            mutex.Unlock();
        };
        ThreadingFixture.Run(scheduler, body, onWorker, "timed wait");
        Assert.False(notified);
        Assert.True(heldAfter);
        Assert.Equal(0, condition.WaitersForTests);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Theory, OnWorkerAndPlainThread]
    public void A_canceled_wait_throws_holding_the_mutex_and_loses_no_later_notification(bool onWorker)
    {
        var scheduler = SchedulerFixture.Create(servers: 1);
        var mutex = new UmcgMutex();
        var condition = new UmcgCondition();
        using var cts = new CancellationTokenSource();
        bool heldInCatch = false;
        Action body = () =>
        {
            mutex.Lock();
            try
            {
                condition.Wait(mutex, cts.Token);
            }
            catch (OperationCanceledException)
            {
                heldInCatch = mutex.IsHeldByCurrentThread;
                throw;
            }
            finally
            {
                mutex.Unlock();
            }
        };
        var canceled = ThreadingFixture.Start(scheduler, body, onWorker);
        var other = scheduler.Spawn(() =>
        {
            using (mutex.EnterScope())
            {
                condition.Wait(mutex);
            }
        });
        ThreadingFixture.Until(scheduler, () => condition.WaitersForTests == 2, "two waiters");
        ThreadingFixture.CancelAndAssertCanceled(scheduler, cts, canceled);
        Assert.True(heldInCatch);

        // The canceled waiter left the queue: the next notification reaches the other waiter.
        Assert.Equal(1, condition.WaitersForTests);
        Assert.True(condition.NotifyOne());
        SchedulerFixture.WaitAll(scheduler, other);
        Assert.True(other.Completion.IsCompletedSuccessfully);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void Waiting_without_holding_the_mutex_is_refused()
    {
        var scheduler = SchedulerFixture.Create(servers: 1);
        var mutex = new UmcgMutex();
        var condition = new UmcgCondition();
        var h = scheduler.Spawn(() => Assert.Throws<SynchronizationLockException>(() => condition.Wait(mutex, TimeSpan.FromSeconds(1))));
        SchedulerFixture.WaitAll(scheduler, h);
        h.Join();
        Assert.Throws<SynchronizationLockException>(() => condition.Wait(mutex));
        Assert.Throws<ArgumentNullException>(() => condition.Wait(null!));
        Assert.Equal(0, condition.WaitersForTests);
        SchedulerFixture.Shutdown(scheduler);
    }
}
