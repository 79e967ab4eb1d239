namespace Umcg.Tests.Threading;

[Collection(ThreadingStress.Name)]
public sealed class MutexTests
{
    /// <summary>Every mode on both parkers; barging also with a zero threshold.</summary>
    public static TheoryData<string, MutexHandOff, bool> ParkersModesAndStarvation => new()
    {
        { "futex", MutexHandOff.Fifo, false },
        { "monitor", MutexHandOff.Fifo, false },
        { "futex", MutexHandOff.Barging, false },
        { "monitor", MutexHandOff.Barging, false },
        { "futex", MutexHandOff.Barging, true },
        { "monitor", MutexHandOff.Barging, true },
    };

    /// <param name="parker">The kernel half's parker.</param>
    /// <param name="handOff">The mutex's mode.</param>
    /// <param name="alwaysStarving">Barging with a zero threshold: every woken waiter that loses switches the mutex to starvation mode, so hand-offs and barging alternate all the time.</param>
    [Theory]
    [Trait("Category", "Stress")]
    [MemberData(nameof(ParkersModesAndStarvation))]
    public void Many_workers_and_threads_contending_never_overlap_and_lose_no_increment(string parker, MutexHandOff handOff, bool alwaysStarving)
    {
        const int Workers = 100;
        const int Threads = 4;
        const int Rounds = 200;
        var scheduler = SchedulerFixture.Create(parker, servers: 2);
        var mutex = new UmcgMutex(handOff);
        if (alwaysStarving)
        {
            mutex.StarvationThreshold = TimeSpan.Zero;
        }

        using var never = new CancellationTokenSource();
        long counter = 0;
        int inside = 0;
        int overlaps = 0;

        // Every form of taking the lock, so that barging, spinning, timeouts and hand-offs all meet.
        void Take(int round)
        {
            switch (round % 4)
            {
                case 0:
                    mutex.Lock();
                    break;
                case 1:
                    mutex.Lock(never.Token);
                    break;
                case 2:
                    while (!mutex.TryLock(TimeSpan.FromMilliseconds(1)))
                    {
                    }

                    break;
                default:
                    while (!mutex.TryLock())
                    {
                        Worker.Yield();
                    }

                    break;
            }
        }

        void CriticalSection(int round)
        {
            Take(round);
            try
            {
                Assert.True(mutex.IsHeldByCurrentThread);
                if (Interlocked.Increment(ref inside) != 1)
                {
                    Interlocked.Increment(ref overlaps);
                }

                // A plain read-modify-write: only mutual exclusion keeps it exact.
                long c = counter;
                if (round % 16 == 0)
                {
                    Worker.Yield(); // hold the lock across a switch: the others must queue
                }

                counter = c + 1;
                Interlocked.Decrement(ref inside);
            }
            finally
            {
                mutex.Unlock();
            }
        }

        ThreadingFixture.RunOnWorkersAndThreads(scheduler, Workers, Threads, Rounds, CriticalSection, progress: () => Volatile.Read(ref counter), describe: mutex.DescribeForTests);
        Assert.Equal(0, overlaps);
        Assert.Equal((long)(Workers + Threads) * Rounds, counter);
        Assert.False(mutex.IsHeld);
        Assert.Equal(0, mutex.WaitersForTests);
        Assert.False(mutex.IsStarvingForTests);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void Unlock_hands_the_lock_to_waiters_in_arrival_order_workers_and_threads_alike()
    {
        const int Waiters = 12;
        var scheduler = SchedulerFixture.Create(servers: 2);
        var mutex = new UmcgMutex();
        var order = new ConcurrentQueue<int>();
        var holder = new LockHolder(scheduler, mutex);

        // Every third waiter is a plain thread: one queue serves both kinds.
        var waiting = ThreadingFixture.StartQueuedWaiters(
            scheduler,
            Waiters,
            id =>
            {
                mutex.Lock();
                order.Enqueue(id);
                mutex.Unlock();
            },
            onWorker: id => id % 3 != 2,
            queued: () => mutex.WaitersForTests);

        holder.LetGo();
        SchedulerFixture.WaitAll(scheduler, holder.Handle);
        ThreadingFixture.Finish(scheduler, Task.WhenAll(waiting), "waiters");
        Assert.Equal(Enumerable.Range(0, Waiters), order);
        SchedulerFixture.Shutdown(scheduler);
    }

    /// <summary>Where a waiter runs (a worker or a plain thread), in each mode.</summary>
    public static TheoryData<bool, MutexHandOff> WaiterKindsAndModes => new()
    {
        { true, MutexHandOff.Fifo },
        { false, MutexHandOff.Fifo },
        { true, MutexHandOff.Barging },
        { false, MutexHandOff.Barging },
    };

    [Theory]
    [MemberData(nameof(WaiterKindsAndModes))]
    public void A_timed_lock_gives_up_when_the_holder_keeps_it_and_succeeds_once_free(bool onWorker, MutexHandOff handOff)
    {
        var scheduler = SchedulerFixture.Create(servers: 1);
        var mutex = new UmcgMutex(handOff);
        var holder = new LockHolder(scheduler, mutex);
        ThreadingFixture.AssertTimedAttemptsGiveUp(scheduler, timeout => mutex.TryLock(timeout), onWorker, "attempts on a held lock");
        Assert.Equal(0, mutex.WaitersForTests);

        holder.LetGo();
        SchedulerFixture.WaitAll(scheduler, holder.Handle);
        bool second = false;
        ThreadingFixture.Run(
            scheduler,
            () =>
            {
                second = mutex.TryLock(TimeSpan.FromMilliseconds(20));
                mutex.Unlock();
            },
            onWorker,
            "attempt on a free lock");
        Assert.True(second);
        Assert.False(mutex.IsHeld);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Theory]
    [MemberData(nameof(WaiterKindsAndModes))]
    public void Canceling_a_waiting_lock_throws_and_leaves_the_queue_consistent(bool onWorker, MutexHandOff handOff)
    {
        var scheduler = SchedulerFixture.Create(servers: 1);
        var mutex = new UmcgMutex(handOff);
        var holder = new LockHolder(scheduler, mutex);
        using var cts = new CancellationTokenSource();
        var canceled = ThreadingFixture.Start(scheduler, () => mutex.Lock(cts.Token), onWorker);
        var later = scheduler.Spawn(() =>
        {
            mutex.Lock();
            mutex.Unlock();
        });
        ThreadingFixture.Until(scheduler, () => mutex.WaitersForTests == 2, "two waiters queue");
        ThreadingFixture.CancelAndAssertCanceled(scheduler, cts, canceled);
        Assert.Equal(1, mutex.WaitersForTests);

        // The lock still works: the holder hands it to the remaining waiter.
        holder.LetGo();
        SchedulerFixture.WaitAll(scheduler, holder.Handle, later);
        Assert.True(later.Completion.IsCompletedSuccessfully);
        Assert.False(mutex.IsHeld);

        // A token canceled before the call throws even on a free lock.
        Assert.Throws<OperationCanceledException>(() => mutex.Lock(cts.Token));
        Assert.Throws<OperationCanceledException>(() => mutex.TryLock(TimeSpan.Zero, cts.Token));
        Assert.False(mutex.IsHeld);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Theory, EveryValue<MutexHandOff>]
    public void Misuse_gets_clear_exceptions_and_leaves_the_scheduler_working(MutexHandOff handOff)
    {
        var scheduler = SchedulerFixture.Create(servers: 1);
        var mutex = new UmcgMutex(handOff);
        var errors = new ConcurrentQueue<Exception>();
        var locked = new UmcgSemaphore(0);
        var done = new UmcgSemaphore(0);

        var owner = scheduler.Spawn(() =>
        {
            mutex.Lock();
            errors.Enqueue(Record(() => mutex.Lock()));
            errors.Enqueue(Record(() => mutex.TryLock()));
            errors.Enqueue(Record(() => mutex.TryLock(TimeSpan.FromSeconds(1))));
            locked.Release();
            done.Wait();
            mutex.Unlock();
            errors.Enqueue(Record(mutex.Unlock));
        });
        locked.Wait();
        var intruder = scheduler.Spawn(() => errors.Enqueue(Record(mutex.Unlock)));
        SchedulerFixture.WaitAll(scheduler, intruder);
        var plainIntruder = Record(mutex.Unlock);
        done.Release();
        SchedulerFixture.WaitAll(scheduler, owner);

        var all = errors.ToArray();
        Assert.IsType<LockRecursionException>(all[0]);
        Assert.IsType<LockRecursionException>(all[1]);
        Assert.IsType<LockRecursionException>(all[2]);
        Assert.IsType<SynchronizationLockException>(all[3]); // the intruding worker
        Assert.IsType<SynchronizationLockException>(all[4]); // unlocking twice
        Assert.IsType<SynchronizationLockException>(plainIntruder);
        Assert.False(mutex.IsHeld);

        // Still a working lock and a working scheduler.
        var after = scheduler.Spawn(() =>
        {
            using (mutex.EnterScope())
            {
                return mutex.IsHeldByCurrentThread;
            }
        });
        SchedulerFixture.WaitAll(scheduler, after);
        Assert.True(after.Join());
        SchedulerFixture.Shutdown(scheduler);
    }

    [Theory, EveryValue<MutexHandOff>]
    public void A_contended_lock_switches_straight_to_the_next_runnable_worker(MutexHandOff handOff)
    {
        var scheduler = SchedulerFixture.Create(servers: 1);
        var mutex = new UmcgMutex(handOff);
        int contenderStarted = 0;
        long switchesBefore = -1;
        long switchesAfter;

        // One server: the owner yields while holding the lock, the contender runs, finds it held and must
        // give its CPU away (in Barging mode too: the owner cannot run while it spins, so it does not spin);
        // the owner is the next runnable worker, so it gets the CPU through next_tid.
        var owner = scheduler.Spawn(() =>
        {
            mutex.Lock();
            while (Volatile.Read(ref contenderStarted) == 0)
            {
                Worker.Yield();
            }

            mutex.Unlock();
        });
        ThreadingFixture.Until(scheduler, () => mutex.IsHeld, "owner locks");
        var contender = scheduler.Spawn(() =>
        {
            switchesBefore = scheduler.Stats.DirectSwitches + scheduler.Stats.SuccessorSwitches;
            Volatile.Write(ref contenderStarted, 1);
            mutex.Lock();
            mutex.Unlock();
        });

        SchedulerFixture.WaitAll(scheduler, owner, contender);
        owner.Join();
        contender.Join();

        // Counted by the switching worker when it runs again, so read at the end.
        switchesAfter = scheduler.Stats.DirectSwitches + scheduler.Stats.SuccessorSwitches;
        Assert.True(switchesAfter - switchesBefore >= 1, $"direct switches before {switchesBefore}, after {switchesAfter}");
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void Unlocking_inside_a_blocking_region_wakes_the_waiter_while_its_server_sleeps()
    {
        var scheduler = SchedulerFixture.Create(servers: 1);
        var mutex = new UmcgMutex();
        WorkerThread? waiterThread = null;
        using var waiterGotIt = new ManualResetEventSlim();

        var owner = scheduler.Spawn(() =>
        {
            mutex.Lock();
            while (Volatile.Read(ref waiterThread) is not { } w || WorkerThread.StateOf(w.ParkWord) != WorkerThread.ParkState.Parked)
            {
                Worker.Yield();
            }

            // Off the CPU (the only other worker is parked, so the server goes to sleep), then unlock and wait,
            // still blocked, for the waiter: it can only run if the unlock woke the sleeping server.
            using (Worker.Blocking())
            {
                int server = scheduler.Servers[0].Tid;
                ThreadingFixture.Until(
                    scheduler,
                    () => scheduler.Servers[0].IsIdle && scheduler.Kernel.Snapshot().Single(t => t.Tid == server) is { State: TaskState.Runnable, Flags: TaskFlags.None },
                    "the server sleeps");
                mutex.Unlock();
                waiterGotIt.Wait();
            }
        });
        ThreadingFixture.Until(scheduler, () => mutex.IsHeld, "owner locks");
        var waiter = scheduler.Spawn(() =>
        {
            Volatile.Write(ref waiterThread, Worker.Current);
            mutex.Lock();
            waiterGotIt.Set();
            mutex.Unlock();
        });

        SchedulerFixture.WaitAll(scheduler, owner, waiter);
        owner.Join();
        waiter.Join();
        SchedulerFixture.Shutdown(scheduler);
    }

    private static Exception Record(Action action)
    {
        try
        {
            action();
        }
#pragma warning disable CA1031 // Recorded for the assertions.
        catch (Exception e)
        {
            return e;
        }
#pragma warning restore CA1031

        return new InvalidOperationException("no exception");
    }
}
