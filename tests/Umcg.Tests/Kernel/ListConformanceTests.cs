namespace Umcg.Tests.Kernel;

/// <summary>
/// Conformance of the runnable list's "queued" mark and of block lifetime: a block registered again while
/// its old entry is listed is never pushed twice, an EFAULT drain loses nobody, and a block disposed while
/// its entry is listed is freed only by the drain that drops the entry. Blocks of these tests live on pages
/// made PROT_NONE when freed, so a read after free would fault at once.
/// </summary>
public sealed unsafe class ListConformanceTests
{
    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void A_block_registered_again_while_its_old_entry_is_listed_is_not_pushed_twice(string parker)
    {
        using var guard = BlockMemory.GuardFreedBlocks();
        using var rig = new Rig(parker);
        var server = rig.Server();
        var (w1, w2, switched) = SwitchLeavingAStaleEntry(rig, server);

        // w2 leaves; a new thread registers w2's block again, for the same server, while its entry is listed.
        Assert.Equal(Errno.Ok, w2.Unregister(CtlFlags.Worker));
        w2.Thread.Exit();
        var w4 = rig.NewParty("worker");
        w2.Task->State = (uint)TaskState.Blocked;
        var registration4 = rig.QueueWithServerAsleep(
            server, () => w4.Post(() => rig.Kernel.Ctl(CtlFlags.Register | CtlFlags.Worker, w2.Task, ClockId.Monotonic)), "w4 queued");

        var drained = new List<int>();
        Assert.Equal(Errno.Ok, server.Call(() => RunnableList.Drain(rig.Kernel, server.Task, drained)));
        Assert.Equal([w1.Tid, w4.Tid], drained);

        rig.Finish(w1, server, rig.Run(server, w1, switched, "w1 run"));
        var wait4 = rig.BeginServe(server, w4.Tid);
        Assert.Equal(Errno.Ok, w4.Result(registration4, "w4 run"));
        Assert.Equal(Errno.Ok, w4.Ctl(CtlFlags.Unregister | CtlFlags.Worker, w2.Task));
        Assert.Equal(Errno.Ok, server.Result(wait4, "server woken by w4 leaving"));
        w4.Thread.Exit();
        w4.Block.Dispose();
        w2.Block.Dispose();
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void An_EFAULT_drain_still_reports_the_workers_behind_the_bad_entry_and_clears_their_marks(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var (wa, registrationA) = rig.QueuedWorker(server);
        var (wb, registrationB) = rig.QueuedWorker(server);

        // The list is wb → wa; user code points wb's link at memory the kernel half never handed out.
        using var foreign = new ForeignMemory();
        Volatile.Write(ref wb.Task->RunnableWorkersPtr, (ulong)foreign.Slot(1));
        var drained = new List<int>();
        Assert.Equal(Errno.EFAULT, server.Call(() => RunnableList.Drain(rig.Kernel, server.Task, drained)));
        Assert.Equal([wb.Tid, wa.Tid], drained);

        // wa's mark was cleared: when it yields it is queued again.
        var waitA = rig.Run(server, wa, registrationA, "wa run");
        var yieldA = rig.BeginYield(wa);
        Assert.Equal(Errno.Ok, server.Result(waitA, "server woken by wa's yield"));
        Assert.Equal(wa.Block.Address, server.ListHead);

        rig.RunAndFinish(server, wa, yieldA, "wa run again");
        rig.RunAndFinish(server, wb, registrationB, "wb run");
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void A_block_disposed_while_its_entry_is_listed_is_freed_by_the_drain_that_drops_it(string parker)
    {
        using var guard = BlockMemory.GuardFreedBlocks();
        using var rig = new Rig(parker);
        var server = rig.Server();
        var (w1, w2, switched) = SwitchLeavingAStaleEntry(rig, server);

        // w2 leaves and frees its block while its old entry is still on the list.
        LeaveWhileListed(rig, w2);

        // The drain drops the stale entry (no EFAULT, nobody lost) and frees the block.
        var drained = new List<int>();
        Assert.Equal(Errno.Ok, server.Call(() => RunnableList.Drain(rig.Kernel, server.Task, drained)));
        Assert.Equal([w1.Tid], drained);
        Assert.True(w2.Block.IsFreed);

        rig.Finish(w1, server, rig.Run(server, w1, switched, "w1 run"));
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Workers_that_leave_and_free_their_blocks_while_their_server_drains_never_fault_or_lose_a_worker(string parker)
    {
        using var guard = BlockMemory.GuardFreedBlocks();
        using var rig = new Rig(parker);
        var server = rig.Server();
        for (int round = 0; round < 100; round++)
        {
            var (w1, w2, switched) = SwitchLeavingAStaleEntry(rig, server);

            // w2 leaves and frees its block on its own thread while the server drains its list.
            var left = w2.Post(() =>
            {
                var r = rig.Kernel.Ctl(CtlFlags.Unregister | CtlFlags.Worker, w2.Task, ClockId.Monotonic);
                w2.Block.Dispose();
                return r;
            });
            var drained = new List<int>();
            Assert.Equal(Errno.Ok, server.Call(() => RunnableList.Drain(rig.Kernel, server.Task, drained)));
            Assert.Equal(Errno.Ok, w2.Result(left, "w2 left"));
            Assert.Equal(1, drained.Count(t => t == w1.Tid));

            // Whatever the drain saw of w2, its block is freed once nothing lists it any more.
            Assert.Equal(Errno.Ok, server.Call(() => RunnableList.Drain(rig.Kernel, server.Task, drained)));
            Assert.True(w2.Block.IsFreed, $"round {round}: w2's block was never freed");
            w2.Thread.Exit();
            rig.Finish(w1, server, rig.Run(server, w1, switched, "w1 run"));
        }
    }

    public static TheoryData<string, string> BothParkersEachWayToLeave() => ParkerCases.Each("unregister", "thread exit");

    [Theory]
    [MemberData(nameof(BothParkersEachWayToLeave))]
    public void A_server_that_leaves_takes_its_list_down_and_frees_the_blocks_disposed_on_it(string parker, string how)
    {
        using var guard = BlockMemory.GuardFreedBlocks();
        using var rig = new Rig(parker);
        var server = rig.Server();
        var (w1, w2, switched) = SwitchLeavingAStaleEntry(rig, server);
        LeaveWhileListed(rig, w2);

        // The server leaves with w1 queued and w2's stale entry on its list.
        if (how == "unregister")
        {
            Assert.Equal(Errno.Ok, server.Unregister());
        }
        else
        {
            server.Thread.Exit();
            rig.Kernel.ReapExited();
        }

        Assert.Equal(Errno.ESRCH, w1.Result(switched, "w1 orphaned by its server leaving"));
        rig.Until(() => w2.Block.IsFreed, "w2's block freed by the server's last drain");
        Assert.Equal(0ul, server.ListHead);

        rig.Retire(w1);
        if (how == "unregister")
        {
            rig.Retire(server);
        }
        else
        {
            server.Block.Dispose();
        }

        Assert.Equal(0, rig.Kernel.TaskCount);
    }

    /// <summary>
    /// w2 unregisters, its thread ends and its block is disposed while its old entry is still listed: the block
    /// must outlive the entry, not be freed under the list.
    /// </summary>
    private static void LeaveWhileListed(Rig rig, Party w2)
    {
        Assert.Equal(Errno.Ok, w2.Unregister(CtlFlags.Worker));
        rig.Retire(w2);
        Assert.False(w2.Block.IsFreed, "a listed block was freed under the list");
    }

    /// <summary>
    /// w1 runs (server awake), w2 is queued; w1 switches to w2 directly without a drain: w2 runs and keeps
    /// its old entry, w1 is pushed on top of it. Returns w1's pending Wait.
    /// </summary>
    private static (Party W1, Party W2, Task<Errno> Switched) SwitchLeavingAStaleEntry(Rig rig, Party server)
    {
        var w1 = rig.RunningWorkerServerAwake(server);
        var w2 = rig.ExtraQueuedWorker(server, out var registration2);
        var switched = rig.BeginYield(w1, w2.Tid);
        Assert.Equal(Errno.Ok, w2.Result(registration2, "w2 run by the switch"));
        rig.Until(() => w1.State == TaskState.Runnable && server.ListHead == w1.Block.Address, "w1 queued on top of w2's entry");
        return (w1, w2, switched);
    }
}
