namespace Umcg.Tests.Kernel;

/// <summary>
/// Conformance of the hooks a patched kernel runs by itself (SysEnter/SysExit around blocking, NotifyResume
/// at safepoints, MarkBlocked for detectors), the runnable list's validation, and the clean-up of threads
/// that exit without unregistering.
/// </summary>
public sealed unsafe class HookConformanceTests
{
    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Hooks_from_an_unregistered_thread_are_EINVAL(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var untouched = BlockSnapshot.Of(server);
        Assert.Equal(Errno.EINVAL, rig.OnFreshThread(() => rig.Kernel.SysEnter()));
        Assert.Equal(Errno.EINVAL, rig.OnFreshThread(() => rig.Kernel.SysExit()));
        Assert.Equal(Errno.EINVAL, rig.OnFreshThread(() => rig.Kernel.NotifyResume()));

        // A worker of another kernel half is not a worker of this one.
        using var otherRig = new Rig(parker);
        var otherServer = otherRig.Server();
        var (foreign, otherWait) = otherRig.RunningWorker(otherServer);
        var foreignUntouched = BlockSnapshot.Of(foreign);
        Assert.Equal(Errno.EINVAL, foreign.Call(() => rig.Kernel.SysEnter()));
        Assert.Equal(Errno.EINVAL, foreign.Call(() => rig.Kernel.SysExit()));
        Assert.Equal(Errno.EINVAL, foreign.Call(() => rig.Kernel.NotifyResume()));
        foreignUntouched.AssertUnchanged();
        otherRig.AssertRunningFor(otherServer, foreign);
        otherRig.Finish(foreign, otherServer, otherWait);
        otherRig.Stop(otherServer);

        untouched.AssertUnchanged();
        rig.AssertServerUsable(server);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void SysEnter_and_SysExit_from_a_server_are_EINVAL(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server(userBits: 0x0a0a);
        var untouched = BlockSnapshot.Of(server);
        Assert.Equal(Errno.EINVAL, server.SysEnter());
        Assert.Equal(Errno.EINVAL, server.SysExit());

        // A server's safepoint while RUNNING returns at once.
        Assert.Equal(Errno.Ok, server.NotifyResume());
        untouched.AssertUnchanged();
        Assert.True(server.IsRegisteredThread);
        rig.AssertServerUsable(server);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void SysExit_without_SysEnter_is_a_no_op(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var (w, serverWait) = rig.RunningWorker(server);
        var untouched = BlockSnapshot.Of(w, server);
        Assert.Equal(Errno.Ok, w.SysExit());
        Assert.Equal(Errno.Ok, w.SysExit());
        untouched.AssertUnchanged();
        rig.AssertRunningFor(server, w);
        rig.Finish(w, server, serverWait);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void SysEnter_when_already_BLOCKED_is_Ok_and_changes_nothing(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var w = rig.BlockedWorker(server);
        var untouched = BlockSnapshot.Of(w, server);
        Assert.Equal(Errno.Ok, w.SysEnter());
        untouched.AssertUnchanged();

        rig.RunAndFinish(server, w, rig.BeginSysExit(server, w), "worker run after unblocking");
    }

    [Theory]
    [MemberData(nameof(Rig.BothParkersEachClock), MemberType = typeof(Rig))]
    public void SysEnter_and_SysExit_stamp_blocked_ts_and_runnable_ts_on_the_registered_clock(string parker, ClockId clock)
    {
        using var rig = new Rig(parker);
        var server = rig.Server(clock);
        var (w, serverWait) = rig.RunningWorkerStampedOn(server, clock);

        for (int i = 0; i < 3; i++)
        {
            long b0 = KernelClock.Now(clock);
            Assert.Equal(Errno.Ok, w.SysEnter());
            long b1 = KernelClock.Now(clock);
            Assert.Equal(Errno.Ok, server.Result(serverWait, "server woken by the block"));
            ulong blocked = Volatile.Read(ref w.Task->BlockedTs);
            Assert.InRange((long)blocked, b0, b1);
            Assert.True(blocked >= Volatile.Read(ref w.Task->RunnableTs), "blocked_ts went backwards");

            long r0 = KernelClock.Now(clock);
            var exit = rig.BeginSysExit(server, w);
            long r1 = KernelClock.Now(clock);
            ulong runnable = Volatile.Read(ref w.Task->RunnableTs);
            Assert.InRange((long)runnable, r0, r1);
            Assert.True(runnable >= blocked, "runnable_ts before blocked_ts");
            Assert.Equal(blocked, Volatile.Read(ref w.Task->BlockedTs));

            serverWait = rig.Run(server, w, exit, "worker run after unblocking");
        }

        rig.Finish(w, server, serverWait);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void NotifyResume_with_TF_PREEMPT_preempts_to_the_server_not_to_next_tid(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var (w1, w2, registration2, serverWait) = rig.FirstOfTwoQueuedWorkersRunning(server);

        // w1 names w2 in next_tid, but a preemption is a scheduling event: the server decides, not next_tid.
        Volatile.Write(ref w1.Task->NextTid, (uint)w2.Tid);
        Assert.True(StateWord.RequestPreempt(w1.Task));
        var safepoint = w1.Post(() => rig.Kernel.NotifyResume());
        Assert.Equal(Errno.Ok, server.Result(serverWait, "server woken by the preemption"));
        Assert.Equal((uint)TaskState.Runnable, w1.Word);
        Assert.Equal((uint)w2.Tid, w1.NextTid);
        Assert.Equal(TaskState.Runnable, w2.State);
        Assert.False(registration2.IsCompleted);
        Assert.Equal(0u, server.NextTid);
        Assert.Equal(w1.Block.Address, server.ListHead);

        // The server runs w2, then w1 again.
        var drained = new List<int>();
        serverWait = rig.Run(server, w2, registration2, "w2 run", drained);
        Assert.Equal([w1.Tid], drained);
        rig.Finish(w2, server, serverWait);
        Volatile.Write(ref w1.Task->NextTid, 0);
        serverWait = rig.Run(server, w1, safepoint, "w1 run again");
        Assert.Equal((uint)TaskState.Running, w1.Word);
        rig.Finish(w1, server, serverWait);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void NotifyResume_with_RUNNABLE_and_COND_WAIT_returns_at_once(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var (w, serverWait) = rig.RunningWorker(server, userBits: 0x0b0b);
        var serverUntouched = BlockSnapshot.Of(server);
        var yield = w.Post(() =>
        {
            Assert.True(StateWord.PrepareWait(w.Task));

            // Between "I will wait" and Wait, a safepoint must not park the worker.
            Assert.Equal(Errno.Ok, rig.Kernel.NotifyResume());
            Assert.Equal((uint)TaskState.Runnable | (uint)TaskFlags.CondWait | (0x0b0bu << 16), Volatile.Read(ref w.Task->State));
            serverUntouched.AssertUnchanged();
            return rig.Kernel.Wait(0, 0);
        });
        Assert.Equal(Errno.Ok, server.Result(serverWait, "server woken by the yield"));
        rig.RunAndFinish(server, w, yield, "worker run again");
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void MarkBlocked_blocks_a_running_worker_and_its_safepoint_unblocks_it(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var (w, serverWait) = rig.RunningWorker(server);
        long b0 = KernelClock.Now(ClockId.Monotonic);
        Assert.Equal(Errno.Ok, rig.Kernel.MarkBlocked(w.Tid));
        Assert.Equal(Errno.Ok, server.Result(serverWait, "server woken by the block"));
        Assert.Equal(TaskState.Blocked, w.State);
        Assert.Equal(0u, server.NextTid);
        Assert.InRange((long)Volatile.Read(ref w.Task->BlockedTs), b0, KernelClock.Now(ClockId.Monotonic));

        // Again while BLOCKED: Ok, nothing changes.
        var untouched = BlockSnapshot.Of(w);
        Assert.Equal(Errno.Ok, rig.Kernel.MarkBlocked(w.Tid));
        untouched.AssertUnchanged();

        var resume = rig.QueueWithServerAsleep(server, () => w.Post(() => rig.Kernel.NotifyResume()), "worker unblocked at its safepoint");
        Assert.Equal(TaskState.Runnable, w.State);
        rig.RunAndFinish(server, w, resume, "worker run after unblocking");
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void MarkBlocked_of_a_task_that_is_not_a_running_worker_is_refused(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var (queued, registration) = rig.QueuedWorker(server);
        var untouched = BlockSnapshot.Of(server, queued);

        // Not a worker: ESRCH.
        foreach (int tid in new[] { 0, -1, Rig.NoSuchTid, server.Tid, 1 })
        {
            Assert.Equal(Errno.ESRCH, rig.Kernel.MarkBlocked(tid));
        }

        // A RUNNABLE worker: EAGAIN.
        Assert.Equal(Errno.EAGAIN, rig.Kernel.MarkBlocked(queued.Tid));
        untouched.AssertUnchanged();

        // A running worker whose server_tid names no server: ESRCH, and it is not removed (it did nothing wrong yet).
        var serverWait = rig.Run(server, queued, registration, "worker run");
        Volatile.Write(ref queued.Task->ServerTid, (uint)Rig.NoSuchTid);
        Assert.Equal(Errno.ESRCH, rig.Kernel.MarkBlocked(queued.Tid));
        Assert.Equal(TaskState.Running, queued.State);
        Assert.True(queued.IsRegisteredThread);
        Volatile.Write(ref queued.Task->ServerTid, (uint)server.Tid);
        rig.AssertRunningFor(server, queued);

        rig.Finish(queued, server, serverWait);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void SysExit_with_a_scribbled_server_tid_removes_the_worker(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var w = rig.BlockedWorker(server);

        Volatile.Write(ref w.Task->ServerTid, (uint)Rig.NoSuchTid);
        Assert.Null(w.Call(() => UmcgKernel.LastKillReason));
        Assert.Equal(Errno.ESRCH, w.SysExit());
        string? reason = w.Call(() => UmcgKernel.LastKillReason);
        Assert.NotNull(reason);
        Assert.Contains(w.Tid.ToString(System.Globalization.CultureInfo.InvariantCulture), reason, StringComparison.Ordinal);
        Assert.Contains("server_tid", reason, StringComparison.Ordinal);

        // Removed: not registered, not queued, the block free to be disposed; the server is idle and still works.
        Assert.False(w.IsRegisteredThread);
        Assert.Equal(1, rig.Kernel.TaskCount);
        Assert.Equal(0, rig.Kernel.TidOfBlock(w.Block.Address));
        Assert.Equal(0ul, server.ListHead);
        Assert.Equal(TaskState.Blocked, w.State);
        rig.Retire(w);
        rig.AssertServerUsable(server);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void SysEnter_with_a_scribbled_server_tid_removes_the_worker_and_wakes_its_server(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var (w, serverWait) = rig.RunningWorker(server);

        // The server sleeps running w; w's server_tid is scribbled; w blocks.
        Volatile.Write(ref w.Task->ServerTid, (uint)Rig.NoSuchTid);
        Assert.Equal(Errno.ESRCH, w.SysEnter());
        Assert.NotNull(w.Call(() => UmcgKernel.LastKillReason));
        Assert.False(w.IsRegisteredThread);
        Assert.Equal(1, rig.Kernel.TaskCount);

        // The server is not left sleeping on a slot that names a worker that is gone.
        Assert.Equal(Errno.Ok, server.Result(serverWait, "server woken when its worker was removed"));
        Assert.Equal(0u, server.NextTid);
        rig.Retire(w);
        rig.AssertServerUsable(server);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void SysExit_in_a_state_other_than_BLOCKED_or_RUNNING_removes_the_worker_and_wakes_its_server(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var (w, serverWait) = rig.RunningWorker(server);
        Assert.True(w.Call(() => StateWord.PrepareWait(w.Task)));
        Assert.Equal(Errno.EINVAL, w.SysExit());
        Assert.NotNull(w.Call(() => UmcgKernel.LastKillReason));
        Assert.False(w.IsRegisteredThread);
        Assert.Equal(Errno.Ok, server.Result(serverWait, "server woken when its worker was removed"));
        Assert.Equal(0u, server.NextTid);
        Assert.Equal(0ul, server.ListHead);
        rig.Retire(w);
        rig.AssertServerUsable(server);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Drain_of_a_scribbled_list_entry_is_EFAULT(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        using var foreign = new ForeignMemory();
        byte[] foreignBefore = new ReadOnlySpan<byte>(foreign.Base, 4096).ToArray();

        // The head names memory that is not a control block: nothing is followed.
        var tids = new List<int>();
        Volatile.Write(ref server.Task->RunnableWorkersPtr, (ulong)foreign.Slot(3));
        Assert.Equal(Errno.EFAULT, server.Call(() => RunnableList.Drain(rig.Kernel, server.Task, tids)));
        Assert.Empty(tids);
        Assert.Equal(0ul, server.ListHead);

        // The head points inside a live block (not at its start).
        Volatile.Write(ref server.Task->RunnableWorkersPtr, server.Block.Address + 8);
        Assert.Equal(Errno.EFAULT, server.Call(() => RunnableList.Drain(rig.Kernel, server.Task, tids)));
        Assert.Empty(tids);

        // A queued worker whose link was scribbled: the worker is reported, the walk stops at the bad link.
        var (w, registration) = rig.QueuedWorker(server);
        Assert.Equal(w.Block.Address, server.ListHead);
        Volatile.Write(ref w.Task->RunnableWorkersPtr, (ulong)foreign.Slot(5));
        Assert.Equal(Errno.EFAULT, server.Call(() => RunnableList.Drain(rig.Kernel, server.Task, tids)));
        Assert.Equal([w.Tid], tids);
        Assert.Equal(0ul, Volatile.Read(ref w.Task->RunnableWorkersPtr));
        Assert.Equal(foreignBefore, new ReadOnlySpan<byte>(foreign.Base, 4096).ToArray());

        // The server still runs the worker it was told about.
        rig.RunAndFinish(server, w, registration, "worker run");
        rig.AssertServerUsable(server);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Drain_skips_a_live_block_that_is_not_registered_and_follows_its_link(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var (w, registration) = rig.QueuedWorker(server);
        using var spare = TaskBlock.Allocate();

        // spare -> w: spare is live memory (safe to read) but no task's block.
        spare.Task->RunnableWorkersPtr = w.Block.Address;
        Volatile.Write(ref server.Task->RunnableWorkersPtr, spare.Address);
        var tids = new List<int>();
        Assert.Equal(Errno.Ok, server.Call(() => RunnableList.Drain(rig.Kernel, server.Task, tids)));
        Assert.Equal([w.Tid], tids);

        // Not an entry of this list (its queued mark names none): the drain does not write it, since its link
        // could belong to another list.
        Assert.Equal(w.Block.Address, spare.Task->RunnableWorkersPtr);

        rig.RunAndFinish(server, w, registration, "worker run");
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Running_worker_thread_exit_without_unregister_is_reaped_and_its_server_woken(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var (w, serverWait) = rig.RunningWorker(server);
        Assert.True(w.Block.IsRegistered);
        Assert.Throws<InvalidOperationException>(() => w.Block.Dispose());

        w.Thread.Exit();
        rig.Kernel.ReapExited();
        rig.Until(() => rig.Kernel.TaskCount == 1, "dead worker reaped");
        Assert.Equal(Errno.Ok, server.Result(serverWait, "server woken when its worker's thread ended"));
        Assert.Equal(0u, server.NextTid);
        Assert.Equal(0, rig.Kernel.TidOfBlock(w.Block.Address));
        Assert.False(w.Block.IsRegistered);
        w.Block.Dispose();
        Assert.Equal(0, rig.Kernel.ReapExited());

        rig.AssertServerUsable(server);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Blocked_worker_and_server_thread_exit_without_unregister_are_reaped(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var w = rig.BlockedWorker(server);

        w.Thread.Exit();
        rig.Kernel.ReapExited();
        rig.Until(() => rig.Kernel.TaskCount == 1, "dead worker reaped");
        Assert.False(w.Block.IsRegistered);
        w.Block.Dispose();
        Assert.Equal(TaskState.Running, server.State);

        server.Thread.Exit();
        rig.Kernel.ReapExited();
        rig.Until(() => rig.Kernel.TaskCount == 0, "dead server reaped");
        Assert.False(server.Block.IsRegistered);
        server.Block.Dispose();
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Concurrent_reaping_forgets_each_exited_task_exactly_once(string parker)
    {
        const int Tasks = 32;
        const int Rounds = 3;
        for (int round = 0; round < Rounds; round++)
        {
            using var rig = new Rig(parker);
            var servers = new List<Party>();
            for (int i = 0; i < Tasks; i++)
            {
                var s = rig.Server();
                s.Thread.Exit();
                servers.Add(s);
            }

            // Three reapers at once (the exit watcher may be a fourth).
            using var start = new Barrier(3);
            var reapers = Enumerable.Range(0, 3).Select(_ => new Thread(() =>
            {
                start.SignalAndWait();
                rig.Kernel.ReapExited();
            })).ToArray();
            foreach (var t in reapers)
            {
                t.Start();
            }

            Watchdog.Join(rig.Kernel, reapers);
            rig.Until(() => rig.Kernel.TaskCount == 0, "every exited task reaped");

            // Each block was released exactly once: registering it again makes it registered, once.
            var again = rig.NewParty("re-registers");
            foreach (var s in servers)
            {
                Assert.False(s.Block.IsRegistered);
                s.Task->ServerTid = (uint)again.Tid;
                s.Task->State = (uint)TaskState.Running;
                Assert.Equal(Errno.Ok, again.Ctl(CtlFlags.Register, s.Task));
                Assert.True(s.Block.IsRegistered, $"round {round}: block of task {s.Tid} released twice");
                Assert.Equal(Errno.Ok, again.Ctl(CtlFlags.Unregister, s.Task));
                Assert.False(s.Block.IsRegistered);
                s.Block.Dispose();
            }

            rig.Retire(again);
        }
    }

    public static TheoryData<string, string> MovedWorkerCalls() => ParkerCases.Each("sys_enter", "wait", "unregister");

    [Theory]
    [MemberData(nameof(MovedWorkerCalls))]
    public void A_worker_whose_server_tid_is_changed_while_it_runs_releases_the_server_it_ran_for(string parker, string call)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var other = rig.Server();
        var w = rig.RunningWorkerServerAwake(server);

        // User space points the running worker at another registered server.
        Volatile.Write(ref w.Task->ServerTid, (uint)other.Tid);

        switch (call)
        {
            case "sys_enter":
                Assert.Equal(Errno.EINVAL, w.SysEnter());
                break;
            case "wait":
                Assert.Equal(Errno.EINVAL, w.Result(rig.BeginYield(w), "yield of the moved worker"));
                break;
            default:
                Assert.Equal(Errno.Ok, w.Unregister(CtlFlags.Worker)); // leaving is what it asked for
                break;
        }

        // The server it ran for is free again, and the one it names never takes it.
        Assert.Equal(0u, server.NextTid);
        Assert.False(w.IsRegisteredThread);
        if (call != "unregister")
        {
            Assert.Contains("server_tid was changed", w.Call(() => UmcgKernel.LastKillReason), StringComparison.Ordinal);
        }

        var drained = new List<int>();
        Assert.Equal(Errno.Ok, other.Call(() => RunnableList.Drain(rig.Kernel, other.Task, drained)));
        Assert.DoesNotContain(w.Tid, drained);
        Assert.Equal(0u, other.NextTid);

        rig.AssertServerUsable(server);
        rig.AssertServerUsable(other);
        rig.Retire(w);
        rig.Stop(server);
        rig.Stop(other);
        Assert.Equal(0, rig.Kernel.TaskCount);
    }
}
