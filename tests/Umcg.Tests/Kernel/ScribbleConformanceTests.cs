namespace Umcg.Tests.Kernel;

/// <summary>
/// Conformance under bad values user code writes into its own or its server's block: TIDs with bit 30 or 31,
/// a running worker's server_tid or state word changed under it, a server's slot overwritten while its worker
/// runs. The offender alone is refused or removed; the server it ran for is released and keeps working.
/// </summary>
public sealed unsafe class ScribbleConformanceTests
{
    private const uint Bit30 = 0x4000_0000;
    private const uint Bit31 = UmcgConstants.TidRunning;

    public static TheoryData<string, uint> BothParkersEachHighBit() => ParkerCases.Each(Bit30, Bit31);

    public static TheoryData<string, uint, string> BothParkersEachHighBitEachCall() =>
        ParkerCases.Each((Bit30, "yield"), (Bit30, "sys_enter"), (Bit31, "yield"), (Bit31, "sys_enter"));

    public static TheoryData<string, TaskState, string> BothParkersEachScribbledState() => ParkerCases.Each(
        (TaskState.Runnable, "safepoint"),
        (TaskState.Blocked, "safepoint"),
        (TaskState.Blocked, "sys_exit"),
        (TaskState.Blocked, "sys_enter"));

    public static TheoryData<string, string> BothParkersYieldOrPreempt() => ParkerCases.Each("yield", "preempt");

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Server_next_tid_with_bit_30_names_no_task_and_is_ESRCH(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var (w, registration) = rig.QueuedWorker(server);

        uint scribbled = (uint)w.Tid | Bit30;
        var r = server.Call(() =>
        {
            Assert.True(StateWord.PrepareWait(server.Task));
            Assert.Equal(Errno.Ok, RunnableList.Drain(rig.Kernel, server.Task, []));
            Volatile.Write(ref server.Task->NextTid, scribbled);
            return rig.Kernel.Wait(0, 0);
        });

        // Refused like any TID that names no task: nothing stored in the slot, the worker not started.
        Assert.Equal(Errno.ESRCH, r);
        Assert.Equal(TaskState.Running, server.State);
        Assert.Equal(scribbled, server.NextTid);
        Assert.Equal(TaskState.Runnable, w.State);
        Assert.False(registration.IsCompleted);

        rig.RunAndFinish(server, w, registration, "worker named without the bit");
    }

    [Theory]
    [MemberData(nameof(BothParkersEachHighBit))]
    public void Worker_next_tid_with_bit_30_or_31_names_no_task_and_is_ESRCH(string parker, uint bit)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var w1 = rig.RunningWorkerServerAwake(server);
        var w2 = rig.ExtraQueuedWorker(server, out var registration2);
        var untouched = BlockSnapshot.Of(w2, server);

        Assert.Equal(Errno.ESRCH, w1.Result(rig.BeginYield(w1, (int)((uint)w2.Tid | bit)), "switch to a next_tid with a high bit"));
        Assert.Equal(TaskState.Running, w1.State);
        untouched.AssertUnchanged();
        Assert.False(registration2.IsCompleted);

        Assert.Equal(Errno.Ok, w1.Unregister(CtlFlags.Worker));
        rig.Retire(w1);
        rig.RunAndFinish(server, w2, registration2, "w2 run by its server");
    }

    [Theory]
    [MemberData(nameof(BothParkersEachHighBitEachCall))]
    public void A_worker_that_sets_bit_30_or_31_of_its_server_tid_is_removed_and_its_server_goes_on(string parker, uint bit, string call)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var (w, serverWait) = rig.RunningWorker(server);

        Volatile.Write(ref w.Task->ServerTid, (uint)server.Tid | bit);
        var r = call == "yield" ? w.Result(rig.BeginYield(w), "yield with a scribbled server_tid") : w.SysEnter();

        Assert.Equal(Errno.ESRCH, r);
        rig.AssertRemovedAndServerGoesOn(w, server, serverWait, "server_tid");
        Assert.Equal(0, rig.Kernel.TaskCount);
    }

    [Theory]
    [MemberData(nameof(BothParkersEachScribbledState))]
    public void A_worker_that_writes_RUNNABLE_or_BLOCKED_into_its_state_is_removed_and_its_server_goes_on(string parker, TaskState state, string call)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var (w, serverWait) = rig.RunningWorker(server);

        uint word = w.Word;
        Volatile.Write(ref w.Task->State, (word & ~UmcgConstants.StateMask) | (uint)state);
        var r = call switch
        {
            "safepoint" => w.NotifyResume(),
            "sys_exit" => w.SysExit(),
            _ => w.SysEnter(),
        };

        Assert.Equal(Errno.EINVAL, r);
        rig.AssertRemovedAndServerGoesOn(w, server, serverWait, "state word");
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Worker_unregister_with_a_scribbled_server_tid_releases_the_server_it_ran_for(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var (w, serverWait) = rig.RunningWorker(server);

        Volatile.Write(ref w.Task->ServerTid, (uint)Rig.NoSuchTid);
        Assert.Equal(Errno.Ok, w.Unregister(CtlFlags.Worker));
        Assert.Equal(Errno.Ok, server.Result(serverWait, "server released by the unregister"));
        Assert.Equal(0u, server.NextTid);
        Assert.Equal(TaskState.Running, server.State);

        rig.AssertServerUsable(server);
        rig.Retire(w);
    }

    [Theory]
    [MemberData(nameof(BothParkersYieldOrPreempt))]
    public void A_worker_removed_for_a_moved_server_tid_is_never_queued_on_the_server_it_names(string parker, string call)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var other = rig.Server();
        var w = rig.RunningWorkerServerAwake(server);

        Volatile.Write(ref w.Task->ServerTid, (uint)other.Tid);
        Errno r;
        if (call == "yield")
        {
            r = w.Result(rig.BeginYield(w), "yield of the moved worker");
        }
        else
        {
            Assert.True(StateWord.RequestPreempt(w.Task));
            r = w.NotifyResume();
        }

        Assert.Equal(Errno.EINVAL, r);
        Assert.False(w.IsRegisteredThread);
        Assert.Equal(0ul, other.ListHead);
        Assert.Equal(0ul, server.ListHead);
        Assert.Equal(0u, server.NextTid);

        rig.Retire(w);
        rig.AssertServerUsable(server);
        rig.AssertServerUsable(other);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void A_server_that_overwrites_its_slot_while_its_worker_runs_cannot_start_a_second_worker(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var w1 = rig.RunningWorkerServerAwake(server);
        var w2 = rig.ExtraQueuedWorker(server, out var registration2);

        // The server names w2 without TID_RUNNING while w1 still runs, and waits (deadline already passed).
        var r = server.Call(() =>
        {
            Assert.True(StateWord.PrepareWait(server.Task));
            Assert.Equal(Errno.Ok, RunnableList.Drain(rig.Kernel, server.Task, []));
            Volatile.Write(ref server.Task->NextTid, (uint)w2.Tid);
            return rig.Kernel.Wait(0, 1);
        });

        // The kernel half's own record says w1 runs: the overwritten slot is ignored, w2 is not started.
        Assert.Equal(Errno.ETIMEDOUT, r);
        Assert.Equal(TaskState.Runnable, w2.State);
        Assert.False(registration2.IsCompleted);
        Assert.Equal(TaskState.Running, w1.State);

        // Once w1 has left, the server may run w2.
        Assert.Equal(Errno.Ok, w1.Unregister(CtlFlags.Worker));
        rig.Retire(w1);
        rig.RunAndFinish(server, w2, registration2, "w2 run after w1 left");
    }
}
