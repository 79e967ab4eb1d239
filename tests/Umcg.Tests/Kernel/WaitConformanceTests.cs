namespace Umcg.Tests.Kernel;

/// <summary>
/// Conformance of Wait's error paths. The documented rule for every error: the caller is RUNNING again
/// (TF_COND_WAIT cleared, user bits kept), nothing was queued and nobody was woken.
/// </summary>
public sealed unsafe class WaitConformanceTests
{
    /// <summary>A worker's Wait that must fail with <paramref name="expected"/>, leaving the rest as it was.</summary>
    private static void AssertWorkerWaitRefused(Rig rig, Party server, Party w, uint flags, long timeout, uint nextTid, Errno expected)
    {
        uint serverWord = server.Word;
        uint slot = server.NextTid;
        ulong list = server.ListHead;
        uint userBits = w.UserBits;
        var r = w.Call(() =>
        {
            Volatile.Write(ref w.Task->NextTid, nextTid);
            Assert.True(StateWord.PrepareWait(w.Task), "worker was not RUNNING before Wait");
            return rig.Kernel.Wait(flags, timeout);
        });
        Assert.Equal(expected, r);
        Assert.Equal((uint)TaskState.Running | (userBits << 16), w.Word);
        Assert.Equal(nextTid, w.NextTid);
        Assert.Equal(0ul, Volatile.Read(ref w.Task->RunnableWorkersPtr));
        Assert.Equal(serverWord, server.Word);
        Assert.Equal(slot, server.NextTid);
        Assert.Equal(list, server.ListHead);
        Assert.True(w.IsRegisteredThread);
        Volatile.Write(ref w.Task->NextTid, 0);
    }

    /// <summary>A server's Wait that must fail with <paramref name="expected"/>, leaving the rest as it was.</summary>
    private static void AssertServerWaitRefused(Rig rig, Party server, uint flags, uint nextTid, Errno expected)
    {
        uint userBits = server.UserBits;
        ulong list = server.ListHead;
        var r = server.Call(() =>
        {
            Volatile.Write(ref server.Task->NextTid, nextTid);
            Assert.True(StateWord.PrepareWait(server.Task), "server was not RUNNING before Wait");
            return rig.Kernel.Wait(flags, 0);
        });
        Assert.Equal(expected, r);
        Assert.Equal((uint)TaskState.Running | (userBits << 16), server.Word);
        Assert.Equal(nextTid, server.NextTid);
        Assert.Equal(list, server.ListHead);
        Assert.True(server.IsRegisteredThread);
        Volatile.Write(ref server.Task->NextTid, 0);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Wait_when_not_registered_is_EINVAL(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var untouched = BlockSnapshot.Of(server);
        Assert.Equal(Errno.EINVAL, rig.OnFreshThread(() => rig.Kernel.Wait(0, 0)));
        Assert.Equal(Errno.EINVAL, rig.OnFreshThread(() => rig.Kernel.Wait(1, 0)));
        Assert.Equal(Errno.EINVAL, rig.OnFreshThread(() => rig.Kernel.Wait(0, KernelClock.Now(ClockId.Monotonic))));

        // A task of another kernel half is not a task of this one.
        var foreign = rig.ForeignServer();
        Assert.True(foreign.Call(() => StateWord.PrepareWait(foreign.Task)));
        Assert.Equal(Errno.EINVAL, foreign.Call(() => rig.Kernel.Wait(0, 0)));
        Assert.Equal((uint)TaskState.Runnable | (uint)TaskFlags.CondWait, foreign.Word);
        Volatile.Write(ref foreign.Task->State, (uint)TaskState.Running);
        rig.Stop(foreign);

        untouched.AssertUnchanged();
        rig.AssertServerUsable(server);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Wait_with_flags_is_EINVAL(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server(userBits: 0x1111);
        var (queued, registration) = rig.QueuedWorker(server);

        // The server names a RUNNABLE worker, but the flags are refused before it is started.
        foreach (uint flags in new uint[] { 1, 2, 0x100, 0x8000_0000 })
        {
            AssertServerWaitRefused(rig, server, flags, (uint)queued.Tid, Errno.EINVAL);
            Assert.Equal(TaskState.Runnable, queued.State);
        }

        // A running worker: refused, still running, its server still asleep running it.
        var serverWait = rig.Run(server, queued, registration, "worker run");
        foreach (uint flags in new uint[] { 1, 2, 0x100, 0x8000_0000 })
        {
            AssertWorkerWaitRefused(rig, server, queued, flags, 0, 0, Errno.EINVAL);
        }

        rig.AssertRunningFor(server, queued);
        rig.Finish(queued, server, serverWait);
        rig.AssertServerUsable(server);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Worker_Wait_with_a_timeout_is_ERANGE(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var (w, serverWait) = rig.RunningWorker(server, userBits: 0x2222);
        foreach (long timeout in new[] { 1L, -1L, KernelClock.Now(ClockId.Monotonic) + 1_000_000_000L, long.MaxValue })
        {
            AssertWorkerWaitRefused(rig, server, w, 0, timeout, 0, Errno.ERANGE);
        }

        rig.AssertRunningFor(server, w);
        rig.Finish(w, server, serverWait);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Wait_when_not_RUNNABLE_is_EAGAIN(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server(userBits: 0x3333);
        var (w1, registration1) = rig.QueuedWorker(server);
        var (w2, registration2) = rig.QueuedWorker(server);

        // A server that did not set RUNNABLE: its named worker is not started.
        Volatile.Write(ref server.Task->NextTid, (uint)w1.Tid);
        var serverUntouched = BlockSnapshot.Of(server);
        Assert.Equal(Errno.EAGAIN, server.Call(() => rig.Kernel.Wait(0, 0)));
        serverUntouched.AssertUnchanged();
        Assert.Equal(TaskState.Runnable, w1.State);
        Volatile.Write(ref server.Task->NextTid, 0);

        // A worker that did not set RUNNABLE: not queued, its next_tid not consumed nor woken, its server still asleep.
        var serverWait = rig.Run(server, w1, registration1, "w1 run");
        Volatile.Write(ref w1.Task->NextTid, (uint)w2.Tid);
        var bothUntouched = BlockSnapshot.Of(w1, server);
        Assert.Equal(Errno.EAGAIN, w1.Call(() => rig.Kernel.Wait(0, 0)));
        bothUntouched.AssertUnchanged();
        Assert.Equal(TaskState.Runnable, w2.State);
        Assert.False(registration2.IsCompleted);
        rig.AssertRunningFor(server, w1);
        Volatile.Write(ref w1.Task->NextTid, 0);

        // A BLOCKED worker (a detector blocked it) gets EAGAIN too and stays BLOCKED.
        Assert.Equal(Errno.Ok, rig.Kernel.MarkBlocked(w1.Tid));
        Assert.Equal(Errno.Ok, server.Result(serverWait, "server woken by the block"));
        Assert.Equal(Errno.EAGAIN, w1.Call(() => rig.Kernel.Wait(0, 0)));
        Assert.Equal(TaskState.Blocked, w1.State);

        // Everything still works: w1's safepoint unblocks it; the server runs w2, then w1.
        var resume = rig.QueueWithServerAsleep(server, () => w1.Post(() => rig.Kernel.NotifyResume()), "w1 unblocked at its safepoint");
        rig.RunAndFinish(server, w2, registration2, "w2 run");
        rig.RunAndFinish(server, w1, resume, "w1 run");
        Assert.Equal(0x3333u, server.UserBits);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Wait_clears_TF_COND_WAIT_on_success(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server(userBits: 0x4444);
        var (w, serverWait) = rig.RunningWorker(server, userBits: 0x5555);

        // The server sleeps RUNNABLE without COND_WAIT.
        Assert.Equal((uint)TaskState.Runnable | (0x4444u << 16), server.Word);

        // The worker yields: while it waits on the list it is RUNNABLE without COND_WAIT.
        var yield = rig.BeginYield(w);
        Assert.Equal(Errno.Ok, server.Result(serverWait, "server woken by the yield"));
        Assert.Equal((uint)TaskState.Runnable | (0x5555u << 16), w.Word);
        Assert.Equal((uint)TaskState.Running | (0x4444u << 16), server.Word);

        serverWait = rig.Run(server, w, yield, "worker run again");
        Assert.Equal((uint)TaskState.Running | (0x5555u << 16), w.Word);
        rig.Finish(w, server, serverWait);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Wait_with_an_unknown_next_tid_is_ESRCH(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var outsiders = new Outsiders(rig);

        foreach (int tid in outsiders.Tids)
        {
            AssertServerWaitRefused(rig, server, 0, (uint)tid, Errno.ESRCH);
        }

        var (w, serverWait) = rig.RunningWorker(server);
        foreach (int tid in outsiders.Tids)
        {
            AssertWorkerWaitRefused(rig, server, w, 0, 0, (uint)tid, Errno.ESRCH);
        }

        rig.AssertRunningFor(server, w);
        rig.Finish(w, server, serverWait);
        rig.AssertServerUsable(server);
        rig.Stop(server);
        outsiders.Leave(rig);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Wait_with_a_next_tid_that_is_not_RUNNABLE_is_EAGAIN(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();

        // w2 runs, then blocks in a blocking region: BLOCKED.
        var w2 = rig.BlockedWorker(server);

        // The server names the BLOCKED worker.
        AssertServerWaitRefused(rig, server, 0, (uint)w2.Tid, Errno.EAGAIN);
        Assert.Equal(TaskState.Blocked, w2.State);

        // A running worker names it.
        var (w1, serverWait1) = rig.RunningWorker(server);
        AssertWorkerWaitRefused(rig, server, w1, 0, 0, (uint)w2.Tid, Errno.EAGAIN);
        Assert.Equal(TaskState.Blocked, w2.State);
        rig.AssertRunningFor(server, w1);

        // w2 leaves its region: it queues and wakes the server (which still runs w1) ...
        var exit = w2.Post(() => rig.Kernel.SysExit());
        Assert.Equal(Errno.Ok, server.Result(serverWait1, "server woken by the unblocked worker"));
        Assert.Equal(TaskState.Runnable, w2.State);
        Assert.Equal((uint)w1.Tid | UmcgConstants.TidRunning, server.NextTid);
        Assert.Equal(Errno.Ok, server.Call(() => RunnableList.Drain(rig.Kernel, server.Task, [])));

        // ... and w1 can now switch to it directly.
        var switched = rig.BeginYield(w1, w2.Tid);
        Assert.Equal(Errno.Ok, w2.Result(exit, "w2 run by w1's switch"));
        Assert.Equal((uint)w2.Tid | UmcgConstants.TidRunning, server.NextTid);
        Assert.Equal(0u, w1.NextTid);
        rig.FinishWithServerAwake(w2, server);
        rig.RunAndFinish(server, w1, switched, "w1 run again");
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Worker_Wait_naming_itself_or_a_task_that_is_not_a_worker_of_its_server_is_EINVAL(string parker)
    {
        using var rig = new Rig(parker);
        var s1 = rig.Server();
        var s2 = rig.Server();
        var (other, otherRegistration) = rig.QueuedWorker(s2);
        var (w, serverWait) = rig.RunningWorker(s1);

        foreach (uint tid in new[] { (uint)w.Tid, (uint)s1.Tid, (uint)s2.Tid, (uint)other.Tid })
        {
            AssertWorkerWaitRefused(rig, s1, w, 0, 0, tid, Errno.EINVAL);
        }

        Assert.Equal(TaskState.Runnable, other.State);
        Assert.False(otherRegistration.IsCompleted);
        Assert.Equal(0u, s2.NextTid);
        Assert.Equal(TaskState.Running, s2.State);

        rig.AssertRunningFor(s1, w);
        rig.Finish(w, s1, serverWait);
        rig.RunAndFinish(s2, other, otherRegistration, "s2's worker run");
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Server_Wait_naming_a_server_or_a_worker_of_another_server_is_EINVAL(string parker)
    {
        using var rig = new Rig(parker);
        var s1 = rig.Server();
        var s2 = rig.Server();
        var (other, otherRegistration) = rig.QueuedWorker(s2);
        var s2Untouched = BlockSnapshot.Of(s2);

        foreach (uint tid in new[] { (uint)s1.Tid, (uint)s2.Tid, (uint)other.Tid })
        {
            AssertServerWaitRefused(rig, s1, 0, tid, Errno.EINVAL);
        }

        Assert.Equal(TaskState.Runnable, other.State);
        Assert.False(otherRegistration.IsCompleted);
        s2Untouched.AssertUnchanged();

        rig.AssertServerUsable(s1);
        rig.RunAndFinish(s2, other, otherRegistration, "s2's worker run");
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Worker_Wait_whose_server_tid_names_no_server_is_ESRCH_and_removes_the_worker(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var (w, serverWait) = rig.RunningWorker(server);

        // user space scribbles server_tid while the worker runs: a protocol violation, as in SysEnter. The
        // worker is removed, and the server it ran for (the kernel half's record knows which) is released.
        Volatile.Write(ref w.Task->ServerTid, (uint)Rig.NoSuchTid);
        Assert.Equal(Errno.ESRCH, w.Result(rig.BeginYield(w), "Wait with a scribbled server_tid"));
        rig.AssertRemovedAndServerGoesOn(w, server, serverWait, "server_tid");
    }

    [Theory]
    [MemberData(nameof(Rig.BothParkersEachClock), MemberType = typeof(Rig))]
    public void Server_Wait_past_its_deadline_is_ETIMEDOUT_and_RUNNING(string parker, ClockId clock)
    {
        using var rig = new Rig(parker);
        var server = rig.Server(clock, userBits: 0x6666);

        // A deadline shortly ahead and one already passed, both absolute on the server's registered clock.
        foreach (long ahead in new[] { 2_000_000L, -1_000_000L })
        {
            var r = server.Call(() =>
            {
                Assert.True(StateWord.PrepareWait(server.Task));
                return rig.Kernel.Wait(0, KernelClock.Now(clock) + ahead);
            });
            Assert.Equal(Errno.ETIMEDOUT, r);
            Assert.Equal((uint)TaskState.Running | (0x6666u << 16), server.Word);
            Assert.Equal(0u, server.NextTid);
        }

        // With a worker named: the worker is started and keeps running after the server's timeout.
        var (w, registration) = rig.QueuedWorker(server, clock);
        var timedOut = server.Call(() =>
        {
            Assert.True(StateWord.PrepareWait(server.Task));
            Assert.Equal(Errno.Ok, RunnableList.Drain(rig.Kernel, server.Task, []));
            Volatile.Write(ref server.Task->NextTid, (uint)w.Tid);
            return rig.Kernel.Wait(0, KernelClock.Now(clock) + 2_000_000);
        });
        Assert.Equal(Errno.Ok, w.Result(registration, "worker run"));
        Assert.Equal(Errno.ETIMEDOUT, timedOut);
        Assert.Equal((uint)TaskState.Running | (0x6666u << 16), server.Word);
        Assert.Equal((uint)w.Tid | UmcgConstants.TidRunning, server.NextTid);
        Assert.Equal(TaskState.Running, w.State);

        rig.FinishWithServerAwake(w, server);
        rig.AssertServerUsable(server);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Server_next_tid_gets_TID_RUNNING_and_its_worker_is_never_woken_twice(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var (w, registration) = rig.QueuedWorker(server);

        // Waking the worker marks the slot.
        var serverWait = rig.Run(server, w, registration, "worker run");
        Assert.Equal((uint)w.Tid | UmcgConstants.TidRunning, server.NextTid);

        // A spurious wake (a kick) of the sleeping server does not start the worker again or end the Wait.
        Assert.Equal(Errno.Ok, rig.Kernel.Kick(0, server.Tid));
        rig.AssertRunningFor(server, w);

        // The worker yields: the slot is cleared and the server woken; the worker waits on the list.
        var yield = rig.BeginYield(w);
        Assert.Equal(Errno.Ok, server.Result(serverWait, "server woken by the yield"));
        Assert.Equal(0u, server.NextTid);
        Assert.Equal(TaskState.Runnable, w.State);

        // A slot that already carries TID_RUNNING is never woken again, even when its worker is RUNNABLE.
        uint marked = (uint)w.Tid | UmcgConstants.TidRunning;
        var r = server.Call(() =>
        {
            Assert.True(StateWord.PrepareWait(server.Task));
            Volatile.Write(ref server.Task->NextTid, marked);
            return rig.Kernel.Wait(0, 1);
        });
        Assert.Equal(Errno.ETIMEDOUT, r);
        Assert.Equal(TaskState.Runnable, w.State);
        Assert.False(yield.IsCompleted);
        Assert.Equal(marked, server.NextTid);

        // Named without the bit, it runs once.
        serverWait = rig.Run(server, w, yield, "worker run again");
        rig.AssertRunningFor(server, w);
        rig.Finish(w, server, serverWait);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Worker_Wait_with_next_tid_switches_directly_and_consumes_next_tid(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var w1 = rig.RunningWorkerServerAwake(server);
        var (w2, registration2) = rig.QueuedWorker(server);

        // The server takes w2 off its list (it will hand it to w1 rather than run it itself).
        var drained = new List<int>();
        Assert.Equal(Errno.Ok, server.Call(() => RunnableList.Drain(rig.Kernel, server.Task, drained)));
        Assert.Equal([w2.Tid], drained);

        // w1 switches to w2: the slot moves to w2, w1's next_tid is consumed, and w1 waits on the list.
        var switched = rig.BeginYield(w1, w2.Tid);
        Assert.Equal(Errno.Ok, w2.Result(registration2, "w2 run by the switch"));
        Assert.Equal((uint)w2.Tid | UmcgConstants.TidRunning, server.NextTid);
        Assert.Equal(TaskState.Running, w2.State);
        rig.Until(() => w1.State == TaskState.Runnable && w1.NextTid == 0 && server.ListHead == w1.Block.Address, "w1 queued, next_tid consumed");
        Assert.Equal(TaskState.Running, server.State);

        // w2 leaves; the server finds w1 on its list and runs it again.
        rig.FinishWithServerAwake(w2, server);
        drained.Clear();
        var serverWait = rig.Run(server, w1, switched, "w1 run again", drained);
        Assert.Equal([w1.Tid], drained);
        rig.Finish(w1, server, serverWait);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Direct_switches_between_queued_workers_never_lose_another_queued_worker(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var w1 = rig.RunningWorkerServerAwake(server);
        var (w2, registration2) = rig.QueuedWorker(server);
        var (x, registrationX) = rig.QueuedWorker(server);

        // Nobody drains while w1 and w2 hand the CPU back and forth: each Wait queues the waiter again, while its
        // earlier entry may still be on the list. x, queued first, must survive all of it.
        var w1Wait = rig.BeginYield(w1, w2.Tid);
        Assert.Equal(Errno.Ok, w2.Result(registration2, "w2 run by w1"));
        var w2Wait = rig.BeginYield(w2, w1.Tid);
        Assert.Equal(Errno.Ok, w1.Result(w1Wait, "w1 run by w2"));
        w1Wait = rig.BeginYield(w1, w2.Tid);
        Assert.Equal(Errno.Ok, w2.Result(w2Wait, "w2 run by w1 again"));
        w2Wait = rig.BeginYield(w2, w1.Tid);
        Assert.Equal(Errno.Ok, w1.Result(w1Wait, "w1 run by w2 again"));
        Assert.Equal(TaskState.Running, w1.State);
        Assert.Equal((uint)w1.Tid | UmcgConstants.TidRunning, server.NextTid);
        Assert.Equal(TaskState.Running, server.State);
        rig.Until(() => w2.State == TaskState.Runnable && server.ListHead != 0, "w2 waiting");

        var drained = new List<int>();
        Assert.Equal(Errno.Ok, server.Call(() => RunnableList.Drain(rig.Kernel, server.Task, drained)));
        Assert.Contains(x.Tid, drained);
        Assert.Contains(w2.Tid, drained);

        // Everyone still runs to completion.
        Assert.Equal(Errno.Ok, w1.Unregister(CtlFlags.Worker));
        rig.Retire(w1);
        rig.RunAndFinish(server, x, registrationX, "x run");
        rig.RunAndFinish(server, w2, w2Wait, "w2 run");
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Switch_to_a_worker_that_blocks_at_once_never_loses_the_servers_wakeup(string parker)
    {
        const int Rounds = 3000;
        using var rig = new Rig(parker);

        // Server pinned to one CPU: the workers follow it there, so a wake tends to preempt the waker, which
        // opens every window between a worker's steps as wide as it gets.
        var server = rig.NewServerParty();
        Assert.Equal(0, server.Call(() => Umcg.Kernel.Native.LinuxSyscalls.PinToCpu(0, 0)));
        Assert.Equal(Errno.Ok, server.Register());
        var a = rig.RunningWorkerServerAwake(server);
        var (b, registrationB) = rig.QueuedWorker(server);
        int done = 0;

        // The canonical server loop, without a deadline: a lost wake-up hangs it (and the watchdog reports).
        var loop = server.Post(() =>
        {
            var known = new List<int>();
            var drained = new List<int>();
            while (true)
            {
                Assert.True(StateWord.PrepareWait(server.Task));
                drained.Clear();
                Assert.Equal(Errno.Ok, RunnableList.Drain(rig.Kernel, server.Task, drained));
                known.AddRange(drained.Except(known));
                uint slot = server.Task->NextTid;

                // A pick not yet started (no TID_RUNNING) stays the pick while its worker is RUNNABLE: a wake that
                // lands between the pick and the Wait turns that Wait into EAGAIN before the worker is started, and
                // the worker is no longer in known; dropping it then would strand it (the scheduler's server loop
                // keeps a pending pick the same way).
                bool pendingPick = slot != 0 && (slot & UmcgConstants.TidRunning) == 0 &&
                    rig.Kernel.BlockOf((int)slot) is var pending && pending != null && StateWord.StateOf(pending) == TaskState.Runnable;
                if ((slot & UmcgConstants.TidRunning) == 0 && !pendingPick)
                {
                    int pick = known.Find(t => rig.Kernel.BlockOf(t) is var blk && blk != null && StateWord.StateOf(blk) == TaskState.Runnable);
                    known.RemoveAll(t => t == pick);
                    if (pick == 0 && Volatile.Read(ref done) == 2)
                    {
                        Volatile.Write(ref server.Task->State, (uint)TaskState.Running);
                        return Errno.Ok;
                    }

                    Volatile.Write(ref server.Task->NextTid, (uint)pick);
                }

                var r = rig.Kernel.Wait(0, 0);
                if (r is not (Errno.Ok or Errno.EAGAIN))
                {
                    return r;
                }
            }
        });

        using var aRan = new SemaphoreSlim(0);
        int rounds = 0;

        // b: blocks at once every time it runs, and leaves the region only after a has run again.
        var bLoop = b.Post(() =>
        {
            Assert.Equal(Errno.Ok, registrationB.GetAwaiter().GetResult());
            for (int i = 0; i < Rounds; i++)
            {
                Assert.Equal(Errno.Ok, rig.Kernel.SysEnter());
                Assert.True(aRan.Wait(Watchdog.Limit), "a never ran again: its server missed a wake-up");
                Assert.Equal(Errno.Ok, rig.Kernel.SysExit());
            }

            // Counted before leaving: the last worker to leave wakes the server, which must then see both done.
            Interlocked.Increment(ref done);
            Assert.Equal(Errno.Ok, rig.Kernel.Ctl(CtlFlags.Unregister | CtlFlags.Worker, b.Task, ClockId.Monotonic));
            return Errno.Ok;
        });

        // a: hands the CPU straight to b (once b is RUNNABLE), and tells b when it runs again.
        var aLoop = a.Post(() =>
        {
            for (int i = 0; i < Rounds; i++)
            {
                var spin = new SpinWait();
                while (StateWord.StateOf(b.Task) != TaskState.Runnable)
                {
                    spin.SpinOnce();
                }

                Volatile.Write(ref a.Task->NextTid, (uint)b.Tid);
                Assert.True(StateWord.PrepareWait(a.Task));
                Assert.Equal(Errno.Ok, rig.Kernel.Wait(0, 0));
                Interlocked.Increment(ref rounds);
                aRan.Release();
            }

            Interlocked.Increment(ref done);
            Assert.Equal(Errno.Ok, rig.Kernel.Ctl(CtlFlags.Unregister | CtlFlags.Worker, a.Task, ClockId.Monotonic));
            return Errno.Ok;
        });

        // Thousands of cross-thread wakes on one CPU: on a saturated machine this can take minutes, so the
        // watchdog counts from the last round, not from the start.
        Watchdog.WaitWhileProgressing(rig.Kernel, aLoop, () => Volatile.Read(ref rounds), "a's switches");
        Assert.Equal(Errno.Ok, a.Result(aLoop, "a's switches"));
        Assert.Equal(Errno.Ok, b.Result(bLoop, "b's blocking regions"));
        Assert.Equal(Errno.Ok, server.Result(loop, "server loop"));
        rig.Retire(a);
        rig.Retire(b);
        rig.Stop(server);
    }
}
