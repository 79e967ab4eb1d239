namespace Umcg.Tests.Scheduling;

/// <summary>
/// Admission control: worker threads never exceed <see cref="UmcgSchedulerOptions.MaxWorkers"/>, bodies wait in a
/// bounded queue, and past both bounds a caller waits (honouring its token) or is refused, with every count exact.
/// </summary>
[Collection(AdmissionAlone.Name)]
public sealed class AdmissionTests
{
    private const int Spawns = 10_000;
    private const int MaxWorkers = 4;

    [Theory, BothParkers]
    public async Task Ten_thousand_spawns_keep_the_worker_bound_and_every_body_runs_once(string parker)
    {
        // A name of its own, so that the OS threads it owns can be told from other tests' (the OS keeps 15 characters).
        string name = $"adm-{parker[0]}";
        var scheduler = SchedulerFixture.Create(parker, servers: 2, new UmcgSchedulerOptions { MaxWorkers = MaxWorkers, MaxQueuedBodies = 8, Name = name });
        var runs = new int[Spawns];
        var tids = new System.Collections.Concurrent.ConcurrentDictionary<int, bool>();
        int inFlight = 0, peakInFlight = 0, peakSampled = 0, peakKnownThreads = 0;
        var osSamples = new System.Collections.Concurrent.ConcurrentBag<int[]>();

        void Body(int i)
        {
            int now = Interlocked.Increment(ref inFlight);
            Raise(ref peakInFlight, now);
            Raise(ref peakSampled, scheduler.Stats.WorkerThreads);
            Raise(ref peakKnownThreads, scheduler.ThreadsForTests().Count() - scheduler.ServerCount);
            tids.TryAdd(Worker.Current!.Tid, true);
            if (i % 50 == 0)
            {
                osSamples.Add(OsThreadsNamed(name));
            }

            if (i % 3 == 0)
            {
                // Blocked workers hold their threads too: the bound counts them.
                using (Worker.Blocking())
                {
                    Thread.Yield();
                }
            }

            Interlocked.Increment(ref runs[i]);
            Interlocked.Decrement(ref inFlight);
        }

        // Four producers race for admission, each awaiting room before its next spawn (back-pressure).
        var handles = new WorkerHandle[Spawns];
        async Task Produce(int first)
        {
            for (int i = first; i < Spawns; i += 4)
            {
                int index = i;
                handles[index] = await scheduler.SpawnAsync(() => Body(index)).ConfigureAwait(false);
            }
        }

        var producers = Task.WhenAll(Enumerable.Range(0, 4).Select(p => Task.Run(() => Produce(p))));
        Watchdog.WaitWhileProgressing(scheduler.Kernel, producers, () => scheduler.Stats.Completed, "10,000 admissions");
        await producers;
        Watchdog.WaitWhileProgressing(scheduler.Kernel, Task.WhenAll(handles.Select(h => h.Completion)), () => scheduler.Stats.Completed, "10,000 bodies");

        Assert.All(runs, r => Assert.Equal(1, r));
        Assert.All(handles, h => Assert.True(h.Completion.IsCompletedSuccessfully));
        Assert.InRange(peakInFlight, 1, MaxWorkers);
        Assert.InRange(peakSampled, 1, MaxWorkers);
        Assert.InRange(peakKnownThreads, 1, MaxWorkers);
        Assert.InRange(scheduler.Stats.PeakWorkerThreads, 1, MaxWorkers);

        // Live OS threads of this scheduler: its workers and servers (its helpers have other names). A thread the
        // runtime starts from a worker (a thread-pool thread, for a handle's continuation) carries the worker's name
        // from its creation until it names itself: one seen so, and renamed since, was never ours.
        var clones = osSamples.SelectMany(sample => sample).Distinct().Where(RenamedSince(name)).ToHashSet();
        int peakOsThreads = osSamples.Max(sample => sample.Count(tid => !clones.Contains(tid)));
        Assert.InRange(peakOsThreads, 1, MaxWorkers + scheduler.ServerCount);

        // Threads were reused, never replaced: over the whole run no more distinct threads than the bound.
        Assert.InRange(tids.Count, 1, MaxWorkers);
        Assert.Equal(Spawns, scheduler.Stats.Spawned);
        Assert.Equal(Spawns, scheduler.Stats.Completed);
        Assert.True(scheduler.Stats.Queued > 0, "the bound was never reached: the test proves nothing");
        Assert.Equal(0, scheduler.Stats.AdmissionRejections);
        Assert.Equal(0, scheduler.Stats.QueuedBodies);
        SchedulerFixture.Shutdown(scheduler);
        Assert.Equal(0, scheduler.Stats.WorkerThreads);
    }

    [Theory, BothParkers]
    public void In_reject_mode_every_spawn_past_the_bounds_is_refused_and_counted_exactly(string parker)
    {
        var scheduler = SchedulerFixture.Create(parker, servers: 2, new UmcgSchedulerOptions { MaxWorkers = MaxWorkers, MaxQueuedBodies = 2, Admission = AdmissionMode.Reject });
        var runs = new int[Spawns];
        var accepted = new List<WorkerHandle>();
        int rejected = 0, peakSampled = 0;
        for (int i = 0; i < Spawns; i++)
        {
            int index = i;
            try
            {
                accepted.Add(scheduler.Spawn(() =>
                {
                    Raise(ref peakSampled, scheduler.Stats.WorkerThreads);
                    using (Worker.Blocking())
                    {
                        Thread.Yield();
                    }

                    Interlocked.Increment(ref runs[index]);
                }));
            }
            catch (UmcgAdmissionRejectedException e)
            {
                Assert.Equal(MaxWorkers, e.MaxWorkers);
                Assert.Equal(2, e.MaxQueuedBodies);
                rejected++;
            }
        }

        SchedulerFixture.WaitAll(scheduler, [.. accepted]);
        Assert.Equal(Spawns, accepted.Count + rejected);
        Assert.Equal(rejected, scheduler.Stats.AdmissionRejections);
        Assert.Equal(accepted.Count, scheduler.Stats.Spawned);
        Assert.Equal(accepted.Count, runs.Sum());
        Assert.All(runs, r => Assert.InRange(r, 0, 1));
        Assert.InRange(peakSampled, 1, MaxWorkers);
        Assert.InRange(scheduler.Stats.PeakWorkerThreads, 1, MaxWorkers);
        Assert.Equal(0, scheduler.Stats.AdmissionWaits);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Theory, BothParkers]
    public async Task Past_both_bounds_Reject_refuses_exactly_the_excess_and_the_admitted_bodies_run(string parker)
    {
        var scheduler = SchedulerFixture.Create(parker, servers: 1, new UmcgSchedulerOptions { MaxWorkers = 2, MaxQueuedBodies = 3, Admission = AdmissionMode.Reject });
        using var gate = new Gate();
        int ran = 0;
        var held = Enumerable.Range(0, 2).Select(_ => scheduler.Spawn(gate.Pass)).ToArray();
        var queued = Enumerable.Range(0, 3).Select(_ => scheduler.Spawn(() => { Interlocked.Increment(ref ran); })).ToArray();
        Assert.Equal(3, scheduler.Stats.QueuedBodies);

        for (int i = 0; i < 10; i++)
        {
            Assert.Throws<UmcgAdmissionRejectedException>(() => scheduler.Spawn(() => { Interlocked.Increment(ref ran); }));
        }

        await Assert.ThrowsAsync<UmcgAdmissionRejectedException>(async () => await scheduler.SpawnAsync(() => { Interlocked.Increment(ref ran); }));
        Assert.Equal(11, scheduler.Stats.AdmissionRejections);

        gate.Open();
        SchedulerFixture.WaitAll(scheduler, [.. held, .. queued]);
        Assert.Equal(3, ran);
        Assert.Equal(5, scheduler.Stats.Spawned);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Theory, BothParkers]
    public async Task A_caller_canceled_while_awaiting_room_leaves_nothing_behind(string parker)
    {
        var scheduler = SchedulerFixture.Create(parker, servers: 1, new UmcgSchedulerOptions { MaxWorkers = 1, MaxQueuedBodies = 0 });
        using var gate = new Gate();
        using var cts = new CancellationTokenSource();
        int ran = 0;
        var holder = scheduler.Spawn(gate.Pass);

        var canceledWait = scheduler.SpawnAsync(() => { Interlocked.Increment(ref ran); }, cts.Token).AsTask();
        var keptWait = scheduler.SpawnAsync(() => Interlocked.Increment(ref ran)).AsTask();
        Assert.False(canceledWait.IsCompleted);
        Assert.False(keptWait.IsCompleted);
        Assert.Equal(2, scheduler.AdmissionWaiterCountForTests);

        // While the only thread is still held: only the waiter's removal can end its wait now.
        cts.Cancel();
        Watchdog.Wait(scheduler.Kernel, canceledWait, "the canceled caller's wait ends");
        Assert.True((await canceledWait).Completion.IsCanceled);
        Assert.Equal(1, scheduler.AdmissionWaiterCountForTests);
        Assert.Equal(1, scheduler.Stats.Spawned);
        Assert.Equal(1, scheduler.Stats.CanceledBeforeStart);
        Assert.False(keptWait.IsCompleted);

        gate.Open();
        Watchdog.Wait(scheduler.Kernel, keptWait, "the other caller is admitted");
        var kept = (WorkerHandle<int>)await keptWait;
        SchedulerFixture.WaitAll(scheduler, holder, kept);
        Assert.Equal(1, kept.Join());
        Assert.Equal(1, ran);
        Assert.Equal(0, scheduler.AdmissionWaiterCountForTests);
        Assert.Equal(2, scheduler.Stats.AdmissionWaits);
        Assert.Equal(2, scheduler.Stats.Spawned);
        Assert.Equal(2, scheduler.Stats.Completed);
        SchedulerFixture.Shutdown(scheduler);
        Assert.Equal(1, ran);
    }

    [Theory, BothParkers]
    public async Task A_blocking_Spawn_past_both_bounds_waits_for_room_and_callers_are_admitted_in_order(string parker)
    {
        var scheduler = SchedulerFixture.Create(parker, servers: 1, new UmcgSchedulerOptions { MaxWorkers = 1, MaxQueuedBodies = 0 });
        using var gate = new Gate();
        var order = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var holder = scheduler.Spawn(gate.Pass);

        // A plain thread blocks in Spawn until the holder's thread is free; an async caller waits behind it.
        WorkerHandle? first = null;
        var spawner = new Thread(() => first = scheduler.Spawn(() => order.Enqueue("first"))) { IsBackground = true, Name = "blocked spawner" };
        spawner.Start();
        Watchdog.Until(() => scheduler.AdmissionWaiterCountForTests == 1, scheduler.Kernel, "the spawner waits for room");
        var second = scheduler.SpawnAsync(() => order.Enqueue("second")).AsTask();
        Assert.Equal(2, scheduler.AdmissionWaiterCountForTests);
        Assert.True(spawner.IsAlive);

        gate.Open();
        Watchdog.Join(scheduler.Kernel, spawner);
        Watchdog.Wait(scheduler.Kernel, second, "the second caller is admitted");
        SchedulerFixture.WaitAll(scheduler, holder, first!, await second);
        Assert.Equal(["first", "second"], order);
        Assert.Equal(2, scheduler.Stats.AdmissionWaits);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Theory, BothParkers]
    public void Queued_bodies_are_taken_by_priority_and_in_order_within_one(string parker)
    {
        var scheduler = SchedulerFixture.Create(parker, servers: 1, new UmcgSchedulerOptions { MaxWorkers = 1 });
        using var gate = new Gate();
        var order = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var holder = scheduler.Spawn(gate.Pass);

        // The only thread is held: every body below is queued, in this order.
        (string Name, int Priority)[] bodies = [("a", 0), ("b", 5), ("c", 0), ("d", 31), ("e", 5), ("f", 40), ("g", -3)];
        var handles = bodies
            .Select(b => scheduler.Spawn(() => order.Enqueue(b.Name), new WorkerOptions { Priority = b.Priority }))
            .ToList();
        Assert.Equal(bodies.Length, scheduler.QueuedBodyCount);

        gate.Open();
        SchedulerFixture.WaitAll(scheduler, [holder, .. handles]);

        // 40 is clamped to the highest priority (31), -3 to the lowest (0): each then queues behind its equals.
        Assert.Equal(["d", "f", "b", "e", "a", "c", "g"], order);
        Assert.Equal(bodies.Length, scheduler.Stats.Queued);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Theory, BothParkers]
    public async Task Callers_waiting_for_room_are_admitted_by_priority(string parker)
    {
        var scheduler = SchedulerFixture.Create(parker, servers: 1, new UmcgSchedulerOptions { MaxWorkers = 1, MaxQueuedBodies = 1 });
        using var gate = new Gate();
        var order = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var holder = scheduler.Spawn(gate.Pass);
        var queued = scheduler.Spawn(() => order.Enqueue("queued"));

        // Both bounds reached: these callers wait, the urgent one last.
        var low = scheduler.SpawnAsync(() => order.Enqueue("low")).AsTask();
        var urgent = scheduler.SpawnAsync(() => order.Enqueue("urgent"), options: new WorkerOptions { Priority = 20 }).AsTask();
        Assert.Equal(2, scheduler.AdmissionWaiterCountForTests);

        // A body admitted into the queue keeps its place: only the freed queue place goes by priority.
        gate.Open();
        Watchdog.Wait(scheduler.Kernel, Task.WhenAll(low, urgent), "both waiting callers are admitted");
        SchedulerFixture.WaitAll(scheduler, holder, queued, await urgent, await low);
        Assert.Equal(["queued", "urgent", "low"], order);
        Assert.Equal(2, scheduler.Stats.AdmissionWaits);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Theory, BothParkers]
    public void A_queued_body_canceled_below_a_higher_priority_leaves_the_others_in_order(string parker)
    {
        var scheduler = SchedulerFixture.Create(parker, servers: 1, new UmcgSchedulerOptions { MaxWorkers = 1 });
        using var gate = new Gate();
        using var cts = new CancellationTokenSource();
        var order = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var holder = scheduler.Spawn(gate.Pass);
        var low = scheduler.Spawn(() => order.Enqueue("low"));
        var canceled = scheduler.Spawn(() => order.Enqueue("canceled"), cts.Token, new WorkerOptions { Priority = 3 });
        var high = scheduler.Spawn(() => order.Enqueue("high"), new WorkerOptions { Priority = 3 });

        cts.Cancel();
        Assert.True(canceled.Completion.IsCanceled);
        Assert.Equal(2, scheduler.QueuedBodyCount);

        gate.Open();
        SchedulerFixture.WaitAll(scheduler, holder, low, high);
        Assert.Equal(["high", "low"], order);
        Assert.Equal(1, scheduler.Stats.CanceledBeforeStart);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Theory, BothParkers]
    public void Shutdown_refuses_callers_still_waiting_for_room(string parker)
    {
        var scheduler = SchedulerFixture.Create(parker, servers: 1, new UmcgSchedulerOptions { MaxWorkers = 1, MaxQueuedBodies = 0 });
        using var gate = new Gate();
        int ran = 0;
        var holder = scheduler.Spawn(gate.Pass);
        var waiting = scheduler.SpawnAsync(() => { Interlocked.Increment(ref ran); }).AsTask();

        var shutdown = scheduler.ShutdownAsync();
        Watchdog.Wait(scheduler.Kernel, waiting.ContinueWith(_ => { }, TaskScheduler.Default), "the waiting caller is refused");
        Assert.IsType<InvalidOperationException>(waiting.Exception!.InnerException);
        Assert.False(shutdown.IsCompleted);

        gate.Open();
        Watchdog.Wait(scheduler.Kernel, shutdown, "shutdown");
        Assert.True(holder.Completion.IsCompletedSuccessfully);
        Assert.Equal(0, ran);
        Assert.Equal(1, scheduler.Stats.Spawned);
        Assert.Empty(scheduler.Faults);
    }

    [Theory, BothParkers]
    public void A_body_of_another_stack_size_gets_the_slot_of_an_idle_thread(string parker)
    {
        var scheduler = SchedulerFixture.Create(parker, servers: 1, new UmcgSchedulerOptions { MaxWorkers = 1 });
        var first = scheduler.Spawn(() => Worker.Current!.Tid);
        SchedulerFixture.WaitAll(scheduler, first);

        // The only slot belongs to an idle default-stack thread: it must leave so that this body gets a thread.
        var big = scheduler.Spawn(() => Worker.Current!.Tid, new WorkerOptions { StackSize = 4 << 20 });
        SchedulerFixture.WaitAll(scheduler, big);
        Assert.NotEqual(first.Join(), big.Join());
        Assert.Equal(1, scheduler.Stats.PeakWorkerThreads);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void Admission_options_are_validated_with_the_others()
    {
        var errors = new UmcgSchedulerOptions { MaxWorkers = 0, MaxQueuedBodies = -1, Admission = (AdmissionMode)7 }.Validate();
        Assert.Contains(errors, e => e.Contains("MaxWorkers", StringComparison.Ordinal) && e.Contains("(was 0)", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("MaxQueuedBodies", StringComparison.Ordinal) && e.Contains("negative", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("Admission", StringComparison.Ordinal) && e.Contains("(was 7)", StringComparison.Ordinal));
        Assert.Contains(new UmcgSchedulerOptions { MaxQueuedBodies = 5 }.Validate(), e => e.Contains("without MaxWorkers", StringComparison.Ordinal));
        Assert.Empty(new UmcgSchedulerOptions { MaxWorkers = 1, MaxQueuedBodies = 0, Admission = AdmissionMode.Reject }.Validate());
        Assert.Throws<ArgumentException>(() => new UmcgScheduler(new UmcgSchedulerOptions { MaxWorkers = -3 }));
    }

    /// <summary>The TIDs of the process's threads whose OS name starts with <paramref name="prefix"/> and a space.</summary>
    private static int[] OsThreadsNamed(string prefix)
    {
        var tids = new List<int>();
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                if (File.ReadAllText(Path.Combine(task, "comm")).StartsWith(prefix + " ", StringComparison.Ordinal))
                {
                    tids.Add(int.Parse(Path.GetFileName(task), System.Globalization.CultureInfo.InvariantCulture));
                }
            }
            catch (IOException)
            {
                // The thread ended while we looked.
            }
        }

        return [.. tids];
    }

    /// <summary>Whether a thread seen with <paramref name="prefix"/>'s name is alive now under another name.</summary>
    private static Func<int, bool> RenamedSince(string prefix) => tid =>
    {
        try
        {
            return !File.ReadAllText($"/proc/self/task/{tid}/comm").StartsWith(prefix + " ", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false; // gone: counted as seen
        }
    };

    private static void Raise(ref int peak, int value)
    {
        int seen;
        while (value > (seen = Volatile.Read(ref peak)) && Interlocked.CompareExchange(ref peak, value, seen) != seen)
        {
        }
    }
}
