namespace Umcg.Tests.Threading;

/// <summary>
/// No server sleeps past a worker queued for it: a worker made runnable while another one runs on the same
/// server must get its time slice (or preempt a lower priority) even when the server went to sleep before it
/// was queued, with no slice to measure then. Each test ends with a worker that spins through safepoints until
/// the queued one has run: only the server's time slice can let that one in, so a server asleep with no
/// deadline hangs the test (the watchdog then fails it with the dump).
/// </summary>
[Collection(ThreadingStress.Name)]
public sealed class QueuedWorkerWakeTests
{
    private static readonly TimeSpan Slice = TimeSpan.FromMilliseconds(2);

    public static TheoryData<string> SlicedPolicies => ["fifo", "priority", "fairshare"];

    /// <summary>
    /// The running worker unparks a worker of its own server (straight into the run queue, no inbox, no wake)
    /// while the server sleeps with no deadline (its run queue was empty when it last looked).
    /// </summary>
    [Theory]
    [MemberData(nameof(SlicedPolicies))]
    public void A_worker_unparked_by_the_running_worker_gets_its_slice(string policy)
    {
        var scheduler = Create(policy);
        var semaphore = new UmcgSemaphore(0);
        WorkerThread? parked = null;
        int ran = 0;
        var waiter = scheduler.Spawn(() =>
        {
            parked = Worker.Current;
            semaphore.Wait();
            Volatile.Write(ref ran, 1);
        });

        // Held aside by its server (not just queued on the semaphore): the release below unparks it through
        // the running worker's direct path into the run queue.
        ThreadingFixture.Until(scheduler, () => parked is { } w && WorkerThread.StateOf(w.ParkWord) == WorkerThread.ParkState.Parked, "the waiter parked on its server");
        var spinner = scheduler.Spawn(() =>
        {
            semaphore.Release();
            while (Volatile.Read(ref ran) == 0)
            {
                Worker.Safepoint();
            }
        });

        SchedulerFixture.WaitAll(scheduler, waiter, spinner);
        SchedulerFixture.Shutdown(scheduler);
    }

    /// <summary>
    /// The server asks the running worker to give way (its slice is over), then sleeps; the worker, before any
    /// safepoint, switches straight to the queued worker, which clears the request. The worker it switched to
    /// must still get sliced, or the one that switched (queued behind it) never runs again.
    /// </summary>
    [Theory]
    [MemberData(nameof(SlicedPolicies))]
    public void A_direct_switch_that_clears_a_preemption_request_still_gets_sliced(string policy) =>
        RunSwitchThatClearsPreemption(policy, holdSwitcherBeforeItsPush: false);

    /// <summary>
    /// As above, with the interleaving forced: the switcher is held after its slot moved to the target and before
    /// it is pushed on the runnable list, until the server has made its re-check turn and gone back to sleep. That
    /// turn finds the target running and nothing queued; it must still look again, or the switcher's push (which
    /// wakes nobody) waits for ever behind a target that never gives way.
    /// </summary>
    [Theory]
    [MemberData(nameof(SlicedPolicies))]
    public void A_switcher_pushed_after_the_servers_re_check_still_gets_its_turn(string policy) =>
        RunSwitchThatClearsPreemption(policy, holdSwitcherBeforeItsPush: true);

    private static unsafe void RunSwitchThatClearsPreemption(string policy, bool holdSwitcherBeforeItsPush)
    {
        var scheduler = Create(policy);
        int switcherTid = 0;
        int held = 0;
        if (holdSwitcherBeforeItsPush)
        {
            scheduler.Kernel.AfterSwitchSlotMovedForTests = tid =>
            {
                if (tid != Volatile.Read(ref switcherTid))
                {
                    return;
                }

                var counters = scheduler.CountersForTests(0);
                long timerWakes = Interlocked.Read(ref counters.TimerWakes);
                ThreadingFixture.Until(
                    scheduler,
                    () => Interlocked.Read(ref counters.TimerWakes) > timerWakes && ServerSleeps(scheduler),
                    "the server's re-check turn, then its sleep, while the switcher is between its slot move and its push");
                Volatile.Write(ref held, 1);
            };
        }

        WorkerThread? target = null;
        int switcherBack = 0;
        var switcher = scheduler.Spawn(() =>
        {
            var self = Worker.Current!;
            Volatile.Write(ref switcherTid, self.Tid);

            // No safepoint here: spin until the server, which sees the target queued, asks us to give way.
            while ((StateWord.FlagsOf(self.Block.Task) & TaskFlags.Preempt) == 0 || Volatile.Read(ref target) is null)
            {
                Thread.SpinWait(10);
            }

            Assert.True(Worker.SwitchTo(Volatile.Read(ref target)!), "the target waits in the run queue");
            Volatile.Write(ref switcherBack, 1);
        });

        ThreadingFixture.Until(scheduler, () => Volatile.Read(ref switcherTid) != 0, "the switcher runs");
        var spinner = scheduler.Spawn(() =>
        {
            while (Volatile.Read(ref switcherBack) == 0)
            {
                Worker.Safepoint();
            }
        });

        ThreadingFixture.Until(scheduler, () => scheduler.QueuedForTests(0) == 1, "the spinner is queued behind the switcher");
        int spinnerTid = scheduler.Kernel.Snapshot().Single(t => t.IsWorker && t.Tid != switcherTid).Tid;
        Assert.True(scheduler.TryGetWorker(spinnerTid, out var queued));
        Volatile.Write(ref target, queued);

        SchedulerFixture.WaitAll(scheduler, switcher, spinner);
        Assert.Equal(holdSwitcherBeforeItsPush ? 1 : 0, Volatile.Read(ref held));
        SchedulerFixture.Shutdown(scheduler);
    }

    /// <summary>The server is in its Wait past the turn's checks: RUNNABLE, TF_COND_WAIT already cleared.</summary>
    private static bool ServerSleeps(UmcgScheduler scheduler) =>
        scheduler.Kernel.Snapshot().Any(t => !t.IsWorker && t.State == TaskState.Runnable && (t.Flags & TaskFlags.CondWait) == 0);

    /// <summary>
    /// Strict priority lets the running worker run on past a lower priority it unparks onto its own server; the
    /// other server is idle, and must be woken to take it instead of sleeping while it waits.
    /// </summary>
    [Fact]
    public void A_lower_priority_worker_unparked_beside_a_spinning_one_goes_to_an_idle_server()
    {
        var scheduler = SchedulerFixture.Create(servers: 2, options: new UmcgSchedulerOptions
        {
            Policy = () => new PriorityPolicy(Slice),
            Detection = DetectionOptions.Off,
        });
        var semaphore = new UmcgSemaphore(0);
        WorkerThread? parked = null;
        int ran = 0;
        var waiter = scheduler.Spawn(
            () =>
            {
                parked = Worker.Current;
                semaphore.Wait();
                Volatile.Write(ref ran, 1);
            },
            new WorkerOptions { Priority = 0, PreferredServer = 0 });

        ThreadingFixture.Until(scheduler, () => parked is { } w && WorkerThread.StateOf(w.ParkWord) == WorkerThread.ParkState.Parked, "the waiter parked on its server");
        var spinner = scheduler.Spawn(
            () =>
            {
                Assert.Equal(0, Worker.Current!.ServerIndex);
                semaphore.Release();
                while (Volatile.Read(ref ran) == 0)
                {
                    Worker.Safepoint();
                }
            },
            new WorkerOptions { Priority = 5, ServerAffinity = 0 });

        SchedulerFixture.WaitAll(scheduler, waiter, spinner);
        SchedulerFixture.Shutdown(scheduler);
    }

    private static UmcgScheduler Create(string policy) => SchedulerFixture.Create(servers: 1, options: new UmcgSchedulerOptions
    {
        Policy = policy switch
        {
            "fifo" => () => new FifoPolicy(Slice),
            "priority" => () => new PriorityPolicy(Slice),
            _ => () => new FairSharePolicy(Slice),
        },
        Detection = DetectionOptions.Off,
        Balance = false,
    });
}
