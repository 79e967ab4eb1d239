using Umcg.Kernel.Native;

namespace Umcg.Tests.Kernel;

/// <summary>The UMCG scenarios, on the raw kernel-half API with the canonical server loop, under both parkers.</summary>
public sealed unsafe class ScenarioTests
{
    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Worker_never_runs_before_a_server_runs_it(string parker)
    {
        var kernel = Parkers.NewKernel(parker);
        var errors = new ConcurrentQueue<Exception>();
        using var server = new RawServer(kernel, run: false);
        int ran = 0;
        var worker = RawWorker.Start(kernel, server.Tid, _ => Volatile.Write(ref ran, 1), errors);

        // The worker has registered and queued itself: it is RUNNABLE on the list and must stay off the CPU.
        Watchdog.Until(() => Volatile.Read(ref server.Task->RunnableWorkersPtr) != 0, kernel, "worker queued");
        int tid = kernel.TidOfBlock(Volatile.Read(ref server.Task->RunnableWorkersPtr));
        Assert.NotEqual(0, tid);
        Assert.Equal(TaskState.Runnable, StateWord.StateOf(kernel.BlockOf(tid)));
        Assert.Equal(0, Volatile.Read(ref ran));

        server.Run();
        Watchdog.Join(kernel, worker);
        Assert.Equal(1, ran);
        Assert.Empty(errors);
    }

    [Theory]
    [Trait("Category", "Stress")]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Many_round_trips_between_server_and_worker(string parker)
    {
        var kernel = Parkers.NewKernel(parker);
        var errors = new ConcurrentQueue<Exception>();
        using var server = new RawServer(kernel);
        const int RoundTrips = 100_000;
        int done = 0;
        var worker = RawWorker.Start(kernel, server.Tid, ctx =>
        {
            for (int i = 0; i < RoundTrips; i++)
            {
                Assert.Equal(TaskState.Running, StateWord.StateOf(ctx.Task));
                ctx.Yield();
                done++;
            }
        }, errors);
        Watchdog.Join(kernel, worker);
        Assert.Empty(errors);
        Assert.Equal(RoundTrips, done);
    }

    private const uint TidRunning = UmcgConstants.TidRunning;

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Worker_in_a_real_nanosleep_frees_its_server_and_then_waits_until_the_server_runs_it(string parker)
    {
        var kernel = Parkers.NewKernel(parker);
        var errors = new ConcurrentQueue<Exception>();
        using var server = new RunQueueServer(kernel);
        int aTid = 0, bTid = 0, entering = 0, bProgressed = 0, aReturned = 0, aAfter = 0;
        long bWork = 0;

        var a = RawWorker.Start(kernel, server.Tid, ctx =>
        {
            Volatile.Write(ref aTid, ctx.Tid);
            Volatile.Write(ref entering, 1);
            ctx.Blocking(() =>
            {
                // A stays in the kernel, in nanosleep(2), until B has made progress; B can only run if entering
                // the region woke the server (it waits without a deadline).
                while (Volatile.Read(ref bProgressed) == 0)
                {
                    LinuxSyscalls.Nanosleep(100_000);
                }

                Volatile.Write(ref aReturned, 1);
            });
            Volatile.Write(ref aAfter, 1);
            Assert.Equal((uint)ctx.Tid | TidRunning, Volatile.Read(ref server.Task->NextTid));
        }, errors, "A");

        Watchdog.Until(() => Volatile.Read(ref entering) == 1, kernel, "A runs");
        var b = RawWorker.Start(kernel, server.Tid, ctx =>
        {
            try
            {
                Volatile.Write(ref bTid, ctx.Tid);
                var aBlock = kernel.BlockOf(Volatile.Read(ref aTid));
                Assert.True(aBlock != null, "A is not registered");
                Assert.Equal(TaskState.Blocked, StateWord.StateOf(aBlock));
                Assert.NotEqual(0UL, Volatile.Read(ref aBlock->BlockedTs));
                Assert.Equal((uint)ctx.Tid | TidRunning, Volatile.Read(ref server.Task->NextTid));
                if (ProcTask.CurrentSyscall(aTid) is not null)
                {
                    Watchdog.Until(() => ProcTask.CurrentSyscall(aTid) is LinuxSyscalls.SysNanosleep or LinuxSyscalls.SysClockNanosleep, kernel, "A asleep in nanosleep");
                }

                // B makes progress while A has not returned (A cannot: it waits for this progress).
                for (int i = 0; i < 1_000; i++)
                {
                    bWork++;
                    Assert.Equal(0, Volatile.Read(ref aReturned));
                }

                Volatile.Write(ref bProgressed, 1);

                // A leaves the syscall and the region: RUNNABLE and queued, and it must stay so while B holds the server.
                Watchdog.Until(() => Volatile.Read(ref aReturned) == 1 && StateWord.StateOf(aBlock) == TaskState.Runnable, kernel, "A left the region");
                Watchdog.Until(() => server.IsQueued(aTid), kernel, "A queued on its server");
                if (ProcTask.ThreadState(aTid) is not null)
                {
                    Watchdog.Until(() => ProcTask.ThreadState(aTid) == 'S', kernel, "A's thread asleep, waiting to be run");
                }

                Assert.Equal(0, Volatile.Read(ref aAfter));
                Assert.Equal(TaskState.Runnable, StateWord.StateOf(aBlock));
                Assert.True(server.IsQueued(aTid));
                Assert.True(Volatile.Read(ref aBlock->RunnableTs) >= Volatile.Read(ref aBlock->BlockedTs), "runnable_ts before blocked_ts");
                Assert.Equal((uint)ctx.Tid | TidRunning, Volatile.Read(ref server.Task->NextTid));
            }
            finally
            {
                Volatile.Write(ref bProgressed, 1);
            }
        }, errors, "B");

        Watchdog.Join(kernel, a, b);
        Assert.Empty(errors);
        Assert.Equal(1_000, bWork);
        Assert.Equal(1, aAfter);
        Assert.Equal([aTid, bTid, aTid], server.Started);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Chain_of_ten_workers_switching_by_next_tid_runs_in_order_without_the_server(string parker) =>
        NextTidChain.Run(parker, leaveByNextTid: true);

    [Theory]
    [Trait("Category", "Stress")]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Ten_thousand_unblocks_racing_the_server_and_a_yielder_lose_no_wakeup(string parker)
    {
        const int Iterations = 10_000;

        // How many times in a row the yielder yields without the unblockers getting anywhere before it rests.
        const int YieldsPerStep = 4;
        var kernel = Parkers.NewKernel(parker);
        var errors = new ConcurrentQueue<Exception>();
        var violations = new ConcurrentQueue<string>();
        using var server = new RunQueueServer(kernel);
        var check = new RunningCheck(server.Task, server.Tid, violations);
        using var bothInside = new Barrier(2);
        using var progressed = new ManualResetEventSlim(false, spinCount: 0);
        var done = new int[2];
        int finished = 0;
        long yields = 0, rests = 0;

        var threads = new Thread[3];
        for (int w = 0; w < 2; w++)
        {
            int i = w;
            threads[i] = RawWorker.Start(kernel, server.Tid, ctx =>
            {
                check.Enter(ctx);
                for (int n = 0; n < Iterations; n++)
                {
                    check.Leave(ctx);

                    // Both workers inside a blocking region at once (only possible if each SysEnter woke the
                    // server to run the other), then both leave at once: two SysExits racing each other, the
                    // server's loop and the yielder.
                    ctx.Blocking(() =>
                    {
                        if (!bothInside.SignalAndWait(Watchdog.Limit))
                        {
                            throw new InvalidOperationException($"worker {i} waited alone in its region at iteration {n}");
                        }
                    });
                    check.Enter(ctx);
                    Volatile.Write(ref done[i], done[i] + 1);
                    progressed.Set();
                }

                Interlocked.Increment(ref finished);
                progressed.Set();
                check.Leave(ctx);
            }, errors, $"unblocker {i}");
        }

        threads[2] = RawWorker.Start(kernel, server.Tid, ctx =>
        {
            check.Enter(ctx);
            int seen = Progress(), idle = 0;
            while (Volatile.Read(ref finished) < 2)
            {
                check.Leave(ctx);
                if (idle < YieldsPerStep)
                {
                    ctx.Yield();
                    yields++;
                    idle++;
                }
                else
                {
                    // The unblockers leave the barrier on an OS wake, not a UMCG one: on a busy or single CPU they
                    // wait for a time slice while this worker and the server hand the CPU back and forth, and
                    // an unbounded yield loop made every iteration cost a slice (10,000 of them outran the
                    // watchdog under load). Rest in a blocking region, asleep, until they move on; leaving it
                    // races their unblocks just as a yield does.
                    ctx.Blocking(() =>
                    {
                        while (true)
                        {
                            progressed.Reset();
                            if (Progress() != seen || Volatile.Read(ref finished) == 2)
                            {
                                return;
                            }

                            if (!progressed.Wait(Watchdog.Limit))
                            {
                                Watchdog.Fail(kernel, $"the unblockers stopped at {Progress()} iterations");
                            }
                        }
                    });
                    rests++;
                }

                check.Enter(ctx);
                int now = Progress();
                if (now != seen)
                {
                    seen = now;
                    idle = 0;
                }
            }

            check.Leave(ctx);
        }, errors, "yielder");

        Watchdog.JoinWhileProgressing(
            kernel,
            () => Progress(),
            () => $"{server.Describe()}; iterations done [{Volatile.Read(ref done[0])}, {Volatile.Read(ref done[1])}], yields {Volatile.Read(ref yields)}, rests {Volatile.Read(ref rests)}",
            threads);
        Assert.Empty(errors);
        Assert.Empty(violations);
        Assert.Equal([Iterations, Iterations], done);
        Assert.Equal(0, Interlocked.Read(ref server.Timeouts));

        // Every run of user code was started by the server (no switches here): two per iteration, plus the
        // yielder's runs after each yield and each rest, and the three first runs after registering.
        Assert.Equal((2L * Iterations) + yields + rests + 3, Interlocked.Read(ref check.Entries));
        Assert.Equal(check.Entries, server.Started.Count);

        int Progress() => Volatile.Read(ref done[0]) + Volatile.Read(ref done[1]);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Unregister_of_the_running_worker_wakes_the_server_and_clears_its_slot(string parker)
    {
        var kernel = Parkers.NewKernel(parker);
        var errors = new ConcurrentQueue<Exception>();
        using var server = new RunQueueServer(kernel);
        int aTid = 0;
        long wakeupsBefore = -1;

        var a = RawWorker.Start(kernel, server.Tid, ctx =>
        {
            Volatile.Write(ref aTid, ctx.Tid);

            // Once the server sleeps in Wait only our unregister can wake it.
            Volatile.Write(ref wakeupsBefore, server.WaitUntilAsleep(kernel, ctx.Tid));
        }, errors, "A");
        Watchdog.Join(kernel, a);
        Assert.Empty(errors);

        server.AssertWokenWithSlotCleared(kernel, Volatile.Read(ref wakeupsBefore), "server woken by the unregister");
        AssertServesTheNextWorker(kernel, server, errors, deadBlock: null, aTid);
        Watchdog.Until(() => Volatile.Read(ref server.Task->NextTid) == 0, kernel, "Y's slot cleared");
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Unregister_with_next_tid_hands_the_server_to_that_worker_without_waking_the_server(string parker)
    {
        var kernel = Parkers.NewKernel(parker);
        var errors = new ConcurrentQueue<Exception>();
        using var server = new RunQueueServer(kernel);
        int aTid = 0, bTid = 0, bRan = 0;
        long wakeupsBefore = -1;
        Thread? b = null;

        var a = RawWorker.Start(kernel, server.Tid, ctx =>
        {
            Volatile.Write(ref aTid, ctx.Tid);

            // Quiet first: the server sleeps in Wait (without a deadline) and only a wake can move it.
            Watchdog.Until(() => Volatile.Read(ref server.Task->State) == (uint)TaskState.Runnable, kernel, "server asleep in Wait");
            long asleep = Interlocked.Read(ref server.Wakeups);

            // B registers while A runs: its registration wakes the server (once), which queues it behind A and
            // sleeps again. After that nothing but A's unregister can wake the server.
            b = RawWorker.Start(kernel, server.Tid, bctx =>
            {
                Volatile.Write(ref bTid, bctx.Tid);
                Assert.Equal((uint)bctx.Tid | TidRunning, Volatile.Read(ref server.Task->NextTid));
                Assert.Equal((uint)TaskState.Runnable, Volatile.Read(ref server.Task->State));
                Assert.Equal(Volatile.Read(ref wakeupsBefore), Interlocked.Read(ref server.Wakeups));
                Volatile.Write(ref bRan, 1);
            }, errors, "B");
            Watchdog.Until(() => Interlocked.Read(ref server.Wakeups) == asleep + 1, kernel, "server woken by B's registration");
            int queued = 0;
            Watchdog.Until(() => server.Queued() is [int only] && (queued = only) != 0, kernel, "B queued");
            Watchdog.Until(() => Volatile.Read(ref server.Task->State) == (uint)TaskState.Runnable, kernel, "server asleep in Wait again");
            Volatile.Write(ref wakeupsBefore, Interlocked.Read(ref server.Wakeups));
            Assert.Equal(asleep + 1, wakeupsBefore);
            Assert.True(server.TryClaim(queued));
            Volatile.Write(ref ctx.Task->NextTid, (uint)queued);

            // Returning unregisters A, which hands the CPU to B.
        }, errors, "A");

        Watchdog.Join(kernel, a);
        Watchdog.Until(() => Volatile.Read(ref b) is not null, kernel, "B started");
        Watchdog.Join(kernel, b!);
        Assert.Empty(errors);
        Assert.Equal(1, bRan);
        Assert.Equal([aTid], server.Started);
        server.AssertWokenWithSlotCleared(kernel, Volatile.Read(ref wakeupsBefore), "server woken by B's unregister");
        Assert.Equal(1, kernel.TaskCount);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Preempt_request_and_kick_park_a_cpu_bound_worker_at_its_safepoint_until_the_server_runs_it_again(string parker)
    {
        var kernel = Parkers.NewKernel(parker);
        var errors = new ConcurrentQueue<Exception>();
        using var server = new RunQueueServer(kernel);
        var events = new ConcurrentQueue<string>();
        int pTid = 0, qTid = 0, requested = 0, qRan = 0;
        long safepoints = 0;

        var p = RawWorker.Start(kernel, server.Tid, ctx =>
        {
            ulong registeredTs = Volatile.Read(ref ctx.Task->RunnableTs);
            events.Enqueue("P runs");
            Volatile.Write(ref pTid, ctx.Tid);
            while (Volatile.Read(ref qRan) == 0)
            {
                // CPU-bound work with a safepoint per round; once TF_PREEMPT is set the very next safepoint must
                // park P until the server runs it again, after Q.
                bool wasRequested = Volatile.Read(ref requested) == 1;
                ctx.Safepoint();
                safepoints++;
                if (wasRequested && Volatile.Read(ref qRan) == 0)
                {
                    throw new InvalidOperationException("a safepoint with TF_PREEMPT set returned before the server ran Q");
                }
            }

            events.Enqueue("P resumed");
            Assert.Equal(TaskState.Running, StateWord.StateOf(ctx.Task));
            Assert.Equal(TaskFlags.None, StateWord.FlagsOf(ctx.Task));
            Assert.Equal((uint)ctx.Tid | TidRunning, Volatile.Read(ref server.Task->NextTid));
            Assert.True(Volatile.Read(ref ctx.Task->RunnableTs) > registeredTs, "preemption did not stamp runnable_ts");
        }, errors, "P");
        Watchdog.Until(() => Volatile.Read(ref pTid) != 0, kernel, "P runs");

        var q = RawWorker.Start(kernel, server.Tid, ctx =>
        {
            events.Enqueue("Q runs");
            Volatile.Write(ref qTid, ctx.Tid);
            var pBlock = kernel.BlockOf(pTid);
            Assert.True(pBlock != null, "P is not registered");
            Assert.Equal(TaskState.Runnable, StateWord.StateOf(pBlock));
            Assert.True(server.IsQueued(pTid), "P is not queued");
            Assert.Equal((uint)ctx.Tid | TidRunning, Volatile.Read(ref server.Task->NextTid));
            Volatile.Write(ref qRan, 1);
        }, errors, "Q");

        // Q has registered and waits behind P, which holds the server.
        Watchdog.Until(() => server.Queued().Length == 1, kernel, "Q queued");
        var block = kernel.BlockOf(pTid);
        events.Enqueue("preempt requested");
        Assert.True(StateWord.RequestPreempt(block), "P was not RUNNING");
        Volatile.Write(ref requested, 1);
        Assert.Equal(Errno.Ok, kernel.Kick(0, pTid));

        Watchdog.Join(kernel, p, q);
        Assert.Empty(errors);
        Assert.Equal(["P runs", "preempt requested", "Q runs", "P resumed"], events);
        Assert.Equal([pTid, qTid, pTid], server.Started);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Server_wait_with_a_timeout_returns_ETIMEDOUT_and_leaves_the_server_running(string parker)
    {
        var kernel = Parkers.NewKernel(parker);
        var errors = new ConcurrentQueue<Exception>();
        var serverThread = TestThread.Start("raw server", () =>
        {
            foreach (var clock in new[] { ClockId.Monotonic, ClockId.Realtime, ClockId.Boottime, ClockId.Tai })
            {
                using var block = TaskBlock.Allocate();
                var self = block.Task;
                self->ServerTid = (uint)UmcgKernel.CurrentTid;
                self->State = (uint)TaskState.Running;
                Assert.Equal(Errno.Ok, kernel.Ctl(CtlFlags.Register, self, clock));
                StateWord.SetUserBits(self, 0xbeef);

                // Nobody wakes the server: the deadline passes.
                Assert.True(StateWord.PrepareWait(self));
                long deadline = KernelClock.DeadlineAfter(clock, TimeSpan.FromMilliseconds(2));
                Assert.Equal(Errno.ETIMEDOUT, kernel.Wait(0, deadline));
                AssertRunningIdle(self, clock);
                if (clock == ClockId.Monotonic)
                {
                    // Not early: the futex and the portable parker both wait the deadline out on this clock.
                    Assert.True(KernelClock.Now(clock) >= deadline, "ETIMEDOUT before the deadline");
                }

                // A deadline already in the past.
                Assert.True(StateWord.PrepareWait(self));
                Assert.Equal(Errno.ETIMEDOUT, kernel.Wait(0, KernelClock.Now(clock) - 1_000_000));
                AssertRunningIdle(self, clock);

                Assert.Equal(Errno.Ok, kernel.Ctl(CtlFlags.Unregister, self, clock));
            }
        }, errors);
        Watchdog.Join(kernel, serverThread);
        Assert.Empty(errors);
        Assert.Equal(0, kernel.TaskCount);

        static void AssertRunningIdle(UmcgTask* self, ClockId clock)
        {
            Assert.True(StateWord.StateOf(self) == TaskState.Running, $"{clock}: server is {StateWord.StateOf(self)} after ETIMEDOUT");
            Assert.Equal(TaskFlags.None, StateWord.FlagsOf(self));
            Assert.Equal(0xbeefu, Volatile.Read(ref self->State) >> 16);
            Assert.Equal(0u, Volatile.Read(ref self->NextTid));
        }
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Server_wait_timing_out_while_a_worker_runs_keeps_the_server_running_and_its_slot(string parker)
    {
        var kernel = Parkers.NewKernel(parker);
        var errors = new ConcurrentQueue<Exception>();
        using var gate = new ManualResetEventSlim();
        var serverThread = TestThread.Start("raw server", () =>
        {
            using var block = TaskBlock.Allocate();
            var self = block.Task;
            int serverTid = UmcgKernel.CurrentTid;
            self->ServerTid = (uint)serverTid;
            self->State = (uint)TaskState.Running;
            Assert.Equal(Errno.Ok, kernel.Ctl(CtlFlags.Register, self, ClockId.Monotonic));
            int wTid = 0;
            var worker = RawWorker.Start(kernel, serverTid, ctx =>
            {
                Volatile.Write(ref wTid, ctx.Tid);

                // Holds the CPU (user code, no blocking region) until the server has timed out.
                Assert.True(gate.Wait(Watchdog.Limit));
            }, errors, "W");

            var drained = new List<int>();
            Watchdog.Until(() => RunnableList.Drain(kernel, self, drained) == Errno.Ok && drained.Count > 0, kernel, "W queued");
            Assert.Single(drained);
            int w = drained[0];
            Volatile.Write(ref self->NextTid, (uint)w);

            // Run W and wait with a deadline. W's own registration wake may still land once (Ok or EAGAIN);
            // after that nothing wakes the server: it times out while W runs.
            int early = 0;
            Errno r;
            while ((r = WaitTimed(self)) != Errno.ETIMEDOUT)
            {
                Assert.True(r is Errno.Ok or Errno.EAGAIN, $"server wait: {r}");
                early++;
            }

            Assert.True(early <= 1, $"{early} wakeups without a cause");

            // W's state is RUNNING from the moment the server's Wait woke it, but its thread may not have been
            // scheduled yet: it can still be inside its registration (before its wake of the server) when we
            // time out. Its body's first store says it is past that, so no wake from it is still in flight.
            Watchdog.Until(() => Volatile.Read(ref wTid) != 0, kernel, "W runs its body");
            Assert.Equal(TaskState.Running, StateWord.StateOf(self));
            Assert.Equal(TaskFlags.None, StateWord.FlagsOf(self));
            Assert.Equal((uint)w | TidRunning, Volatile.Read(ref self->NextTid));
            Assert.Equal(w, Volatile.Read(ref wTid));
            Assert.Equal(TaskState.Running, StateWord.StateOf(kernel.BlockOf(w)));

            // Now let W finish: its unregister wakes the server (before Wait: EAGAIN; in Wait: Ok).
            Assert.True(StateWord.PrepareWait(self));
            gate.Set();
            r = kernel.Wait(0, 0);
            Assert.True(r is Errno.Ok or Errno.EAGAIN, $"server wait: {r}");
            Assert.Equal(TaskState.Running, StateWord.StateOf(self));
            Assert.Equal(0u, Volatile.Read(ref self->NextTid));
            Watchdog.Join(kernel, worker);
            Assert.Equal(Errno.Ok, kernel.Ctl(CtlFlags.Unregister, self, ClockId.Monotonic));
        }, errors);
        Watchdog.Join(kernel, serverThread);
        gate.Set();
        Assert.Empty(errors);
        Assert.Equal(0, kernel.TaskCount);

        Errno WaitTimed(UmcgTask* self)
        {
            Assert.True(StateWord.PrepareWait(self));
            return kernel.Wait(0, KernelClock.DeadlineAfter(ClockId.Monotonic, TimeSpan.FromMilliseconds(2)));
        }
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Two_servers_at_once_each_run_only_their_own_workers(string parker) => RunTwoServers(parker, leaveTogether: true);

    /// <summary>
    /// Two servers with four workers each: yields, blocking regions and switches to a claimed worker of the same
    /// server. With <paramref name="leaveTogether"/> a worker that finished its mix keeps yielding until every
    /// worker of its server has, so that the last ones leave one after the other through the server, not
    /// right after a switch.
    /// </summary>
    internal static void RunTwoServers(string parker, bool leaveTogether)
    {
        const int WorkersPerServer = 4;
        const int Iterations = 300;
        var kernel = Parkers.NewKernel(parker);
        var errors = new ConcurrentQueue<Exception>();
        var violations = new ConcurrentQueue<string>();
        int[] cpus = LinuxSyscalls.GetAffinity(0);
        bool pin = cpus.Length >= 2;
        using var s0 = new RunQueueServer(kernel, cpu: pin ? cpus[0] : null, name: "server 0");
        using var s1 = new RunQueueServer(kernel, cpu: pin ? cpus[1] : null, name: "server 1");
        RunQueueServer[] servers = [s0, s1];
        RunningCheck[] checks = [new(s0.Task, s0.Tid, violations), new(s1.Task, s1.Tid, violations)];
        var home = new ConcurrentDictionary<int, int>();
        var iterations = new int[2 * WorkersPerServer];
        var finishedMix = new int[2];
        int seed = Environment.TickCount;

        var threads = new Thread[2 * WorkersPerServer];
        for (int k = 0; k < threads.Length; k++)
        {
            int worker = k;
            int s = k % 2;
            threads[k] = RawWorker.Start(kernel, servers[s].Tid, ctx =>
            {
                var mine = servers[s];
                var other = servers[1 - s];
                var check = checks[s];
                var random = new Random(seed + worker);
                home[ctx.Tid] = s;
                Enter();
                for (int i = 0; i < Iterations; i++)
                {
                    int op = random.Next(3);
                    check.Leave(ctx);
                    if (op == 0)
                    {
                        ctx.Yield();
                    }
                    else if (op == 1)
                    {
                        ctx.Blocking(() => LinuxSyscalls.Nanosleep(random.Next(0, 20_001)));
                    }
                    else if (mine.TryClaimAny(random, out int target))
                    {
                        ctx.SwitchTo(target);
                    }
                    else
                    {
                        ctx.Yield();
                    }

                    Enter();
                    iterations[worker]++;
                }

                Interlocked.Increment(ref finishedMix[s]);
                while (leaveTogether && Volatile.Read(ref finishedMix[s]) < WorkersPerServer)
                {
                    check.Leave(ctx);
                    ctx.Yield();
                    Enter();
                }

                check.Leave(ctx);

                void Enter()
                {
                    check.Enter(ctx);
                    if ((Volatile.Read(ref other.Task->NextTid) & UmcgConstants.TidMask) == (uint)ctx.Tid)
                    {
                        violations.Enqueue($"worker {ctx.Tid} of server {mine.Tid} is named by server {other.Tid}");
                    }

                    // A worker runs on its server's CPU (the kernel half pins it there when it starts running).
                    if (mine.Cpu >= 0 && LinuxSyscalls.GetAffinity(0) is var affinity && (affinity is not [int only] || only != mine.Cpu))
                    {
                        violations.Enqueue($"worker {ctx.Tid} may run on CPUs [{string.Join(",", affinity)}], its server on {mine.Cpu}");
                    }
                }
            }, errors, $"worker {k} of server {s}");
        }

        Watchdog.Join(kernel, threads);
        Assert.Empty(errors);
        Assert.True(violations.IsEmpty, $"seed {seed}: {string.Join(Environment.NewLine, violations)}");
        Assert.All(iterations, n => Assert.Equal(Iterations, n));
        for (int s = 0; s < 2; s++)
        {
            Assert.All(servers[s].Started, tid => Assert.Equal(s, home[tid]));
        }

        Assert.Equal(2, kernel.TaskCount);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Worker_thread_that_exits_while_running_without_unregistering_frees_its_server(string parker)
    {
        var kernel = Parkers.NewKernel(parker);
        var errors = new ConcurrentQueue<Exception>();
        using var server = new RunQueueServer(kernel);
        var block = TaskBlock.Allocate();
        long wakeupsBefore = -1;
        int xTid = ExitWithoutUnregistering(kernel, server, errors, block, tid =>
        {
            // Once the server sleeps in Wait only this thread's exit can wake it.
            Volatile.Write(ref wakeupsBefore, server.WaitUntilAsleep(kernel, tid));

            // The thread ends here: registered, RUNNING, named by its server's slot.
        });

        server.AssertWokenWithSlotCleared(kernel, Volatile.Read(ref wakeupsBefore), "server woken by the reap");
        AssertServesTheNextWorker(kernel, server, errors, block, xTid);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Worker_thread_that_exits_inside_a_blocking_region_is_reaped_and_its_server_keeps_serving(string parker)
    {
        var kernel = Parkers.NewKernel(parker);
        var errors = new ConcurrentQueue<Exception>();
        using var server = new RunQueueServer(kernel);
        var block = TaskBlock.Allocate();
        int xTid = ExitWithoutUnregistering(kernel, server, errors, block, _ =>
        {
            RawWorkerContext.Check(kernel.SysEnter(), "sys_enter");
            Assert.Equal(TaskState.Blocked, StateWord.StateOf(block.Task));

            // The thread ends inside the region: BLOCKED, its server already free.
        });

        AssertServesTheNextWorker(kernel, server, errors, block, xTid);
    }

    /// <summary>
    /// Worker X registers with <paramref name="server"/> on a thread of its own, runs <paramref name="beforeExit"/>
    /// (given its TID), and its thread ends without unregistering. Returns X's TID once the kernel half has reaped
    /// it. The test owns X's block: the exiting thread must leave it registered, and it may be freed only once
    /// reaped.
    /// </summary>
    private static int ExitWithoutUnregistering(UmcgKernel kernel, RunQueueServer server, ConcurrentQueue<Exception> errors, TaskBlock block, Action<int> beforeExit)
    {
        int xTid = 0;
        var x = TestThread.Start("X", () =>
        {
            var task = block.Task;
            task->ServerTid = (uint)server.Tid;
            task->State = (uint)TaskState.Blocked;
            RawWorkerContext.Check(kernel.Ctl(CtlFlags.Register | CtlFlags.Worker, task, ClockId.Monotonic), "worker register");
            Volatile.Write(ref xTid, UmcgKernel.CurrentTid);
            beforeExit(xTid);
        }, errors);
        Watchdog.Join(kernel, x);
        Assert.Empty(errors);

        Watchdog.Until(() => !block.IsRegistered, kernel, "the exited worker reaped");
        return xTid;
    }

    /// <summary>
    /// After worker <paramref name="deadTid"/> left (unregistered, or its thread was reaped): it is no task any
    /// more, and its block, when the test owns it, is freed; a new worker Y registers and the server runs it, and
    /// the server's only starts were those two.
    /// </summary>
    private static void AssertServesTheNextWorker(UmcgKernel kernel, RunQueueServer server, ConcurrentQueue<Exception> errors, TaskBlock? deadBlock, int deadTid)
    {
        Assert.True(kernel.BlockOf(deadTid) == null, $"worker {deadTid} is still registered");
        Assert.Equal(1, kernel.TaskCount);
        deadBlock?.Dispose();

        int yTid = 0;
        var y = RawWorker.Start(kernel, server.Tid, ctx =>
        {
            Volatile.Write(ref yTid, ctx.Tid);
            Assert.Equal((uint)ctx.Tid | TidRunning, Volatile.Read(ref server.Task->NextTid));
        }, errors, "Y");
        Watchdog.Join(kernel, y);
        Assert.Empty(errors);
        Assert.Equal([deadTid, yTid], server.Started);
    }
}
