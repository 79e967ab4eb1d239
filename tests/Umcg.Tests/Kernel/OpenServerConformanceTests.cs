namespace Umcg.Tests.Kernel;

/// <summary>
/// K12: a server asleep with nothing to run writes TID_OPEN to its next_tid; the first worker that becomes runnable for
/// it (its own unblock, or an unblocker's for an offered idle worker) claims it — record, then the mirror by CAS — and
/// runs at once, while the server sleeps on until that worker stops.
/// </summary>
public sealed unsafe class OpenServerConformanceTests
{
    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void A_worker_that_unblocks_claims_an_open_server_and_runs_at_once_while_the_server_sleeps_on(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var w = rig.BlockedWorker(server);
        var serverWait = SleepOpen(rig, server);

        // Returns RUNNING from its own unblock: nothing queued, the server not woken.
        Assert.Equal(Errno.Ok, w.SysExit());
        rig.AssertRunningFor(server, w);
        Assert.Equal(0ul, server.ListHead);
        Assert.False(serverWait.IsCompleted, "the server was woken by a claim");

        // Told once, on its own thread.
        Assert.True(w.Call(rig.Kernel.TakeDirectStart));
        Assert.False(w.Call(rig.Kernel.TakeDirectStart));

        // The server sleeps until the worker stops, as after its own start; a server is never told.
        rig.Finish(w, server, serverWait);
        Assert.Equal(0u, server.NextTid);
        Assert.False(server.Call(rig.Kernel.TakeDirectStart));
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void An_unblocker_claims_an_open_server_for_an_offered_worker_and_wakes_it_once_to_run(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var w = rig.BlockedWorker(server);
        Assert.Equal(Errno.Ok, w.Call(rig.Kernel.OfferIdle));
        var idle = w.Post(rig.Kernel.IdleWait);
        var serverWait = SleepOpen(rig, server);

        Assert.Equal(Errno.Ok, rig.OnFreshThread(() => rig.Kernel.UnblockIdle(w.Task)));
        Assert.Equal(Errno.Ok, w.Result(idle, "offered worker started on the open server"));
        rig.AssertRunningFor(server, w);
        Assert.Equal(0ul, server.ListHead);
        Assert.False(serverWait.IsCompleted, "the server was woken by a claim");
        Assert.True(w.Call(rig.Kernel.TakeDirectStart));
        rig.Finish(w, server, serverWait);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Of_two_arrivals_at_one_open_server_one_claims_it_and_the_other_queues_and_wakes_the_server(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var w1 = rig.BlockedWorker(server);
        var w2 = rig.BlockedWorker(server);
        var serverWait = SleepOpen(rig, server);

        var exit1 = w1.Post(rig.Kernel.SysExit);
        var exit2 = w2.Post(rig.Kernel.SysExit);

        // The one that lost the claim (or came after it) is queued, and its arrival wakes the server: no margin.
        Assert.Equal(Errno.Ok, server.Result(serverWait, "server woken by the second arrival"));
        rig.Until(() => exit1.IsCompleted || exit2.IsCompleted, "the claimer returns");
        var (winner, loser, loserExit) = exit1.IsCompleted ? (w1, w2, exit2) : (w2, w1, exit1);
        Assert.Equal(Errno.Ok, winner.Result(exit1.IsCompleted ? exit1 : exit2, "claimer's unblock"));

        // At most one runs: the claimer, named by the server's next_tid; the other waits on the list.
        Assert.Equal(TaskState.Running, winner.State);
        Assert.Equal((uint)winner.Tid | UmcgConstants.TidRunning, server.NextTid);
        Assert.Equal(TaskState.Runnable, loser.State);
        Assert.Equal((ulong)loser.Task, server.ListHead);
        Assert.False(loserExit.IsCompleted, "the second arrival ran beside the claimer");
        Assert.True(winner.Call(rig.Kernel.TakeDirectStart));

        // The claimer leaves; the server runs the other as ever (a pick, not a claim).
        rig.FinishWithServerAwake(winner, server);
        var drained = new List<int>();
        var next = rig.Run(server, loser, loserExit, "second arrival run by its server", drained);
        Assert.Equal([loser.Tid], drained);
        Assert.False(loser.Call(rig.Kernel.TakeDirectStart));
        rig.Finish(loser, server, next);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void TID_OPEN_written_by_user_code_beside_a_running_worker_claims_nothing(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var blocked = rig.BlockedWorker(server);
        var (running, serverWait) = rig.RunningWorker(server);

        // The record names the running worker: the arrival finds it taken, queues and wakes the server.
        Volatile.Write(ref server.Task->NextTid, UmcgConstants.TidOpen);
        var exit = blocked.Post(rig.Kernel.SysExit);
        Assert.Equal(Errno.Ok, server.Result(serverWait, "server woken by the arrival"));
        Assert.Equal(TaskState.Running, running.State);
        Assert.Equal(TaskState.Runnable, blocked.State);
        Assert.Equal((ulong)blocked.Task, server.ListHead);
        Assert.Equal(UmcgConstants.TidOpen, server.NextTid); // left as user code wrote it

        // User space puts its mirror back; the running worker leaves and the other runs as ever.
        Volatile.Write(ref server.Task->NextTid, (uint)running.Tid | UmcgConstants.TidRunning);
        rig.FinishWithServerAwake(running, server);
        rig.Finish(blocked, server, rig.Run(server, blocked, exit, "queued arrival run by its server"));
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void A_block_naming_TID_OPEN_leaves_the_server_asleep_open_for_the_next_arrival(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var arrival = rig.BlockedWorker(server);
        var (w, serverWait) = rig.RunningWorker(server);

        // K12l: the record freed into an open slot, next_tid consumed, nobody woken.
        Volatile.Write(ref w.Task->NextTid, UmcgConstants.TidOpen);
        Assert.Equal(Errno.Ok, w.SysEnter());
        Assert.Equal(TaskState.Blocked, w.State);
        Assert.Equal(0u, w.NextTid);
        Assert.Equal(UmcgConstants.TidOpen, server.NextTid);
        Assert.False(serverWait.IsCompleted, "the block woke the server");

        // The next arrival claims it, and the server still sleeps.
        Assert.Equal(Errno.Ok, arrival.SysExit());
        rig.AssertRunningFor(server, arrival);
        Assert.False(serverWait.IsCompleted, "the claim woke the server");
        Assert.True(arrival.Call(rig.Kernel.TakeDirectStart));
        rig.Finish(arrival, server, serverWait);

        // The worker that left it open ends its region as ever.
        rig.RunAndFinish(server, w, rig.BeginSysExit(server, w), "the worker that left its server open, run again");
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void A_block_that_leaves_its_server_open_wakes_it_for_an_arrival_quiet_on_its_list(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var arriving = rig.BlockedWorker(server);
        var (running, serverWait) = rig.RunningWorker(server);

        // Margin 2, equal ranks: the arrival stays quiet on the list of the busy server.
        StateWord.SetArrival(server.Task, 2);
        var exit = arriving.Post(rig.Kernel.SysExit);
        rig.Until(() => server.ListHead == arriving.Block.Address, "the arrival quiet on its server's list");
        Assert.False(serverWait.IsCompleted, "a quiet arrival woke its server");

        // The block leaves the slot open, then finds the entry and wakes the server: nobody else would drain it.
        Volatile.Write(ref running.Task->NextTid, UmcgConstants.TidOpen);
        Assert.Equal(Errno.Ok, running.SysEnter());
        Assert.Equal(0u, running.NextTid);
        Assert.Equal(Errno.Ok, server.Result(serverWait, "server woken by the look after the block"));
        Assert.Equal(UmcgConstants.TidOpen, server.NextTid);
        Assert.Equal(TaskState.Runnable, arriving.State);

        // The server takes its offer back (O2) and runs the arrival; then the blocked worker ends its region.
        Volatile.Write(ref server.Task->NextTid, 0);
        StateWord.SetArrival(server.Task, 0);
        var drained = new List<int>();
        rig.Finish(arriving, server, rig.Run(server, arriving, exit, "the quiet arrival run by its server", drained));
        Assert.Equal([arriving.Tid], drained);
        rig.RunAndFinish(server, running, rig.BeginSysExit(server, running), "the worker that left its server open, run again");
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void A_block_naming_TID_OPEN_over_a_mirror_user_code_overwrote_wakes_the_server_as_a_plain_block(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var (w, serverWait) = rig.RunningWorker(server);

        // User code scribbles the server's mirror: the slot cannot be opened from a value that is not ours.
        Volatile.Write(ref server.Task->NextTid, 12345u);
        Volatile.Write(ref w.Task->NextTid, UmcgConstants.TidOpen);
        Assert.Equal(Errno.Ok, w.SysEnter());
        Assert.Equal(Errno.Ok, server.Result(serverWait, "server woken by the block"));
        Assert.Equal(TaskState.Blocked, w.State);
        Assert.Equal(UmcgConstants.TidOpen, w.NextTid); // not consumed: no slot was left open
        Assert.Equal(12345u, server.NextTid);

        Volatile.Write(ref server.Task->NextTid, 0);
        Volatile.Write(ref w.Task->NextTid, 0);
        rig.RunAndFinish(server, w, rig.BeginSysExit(server, w), "worker run after a plain block");
    }

    [Fact]
    public void The_open_slot_is_neither_a_pick_nor_a_running_worker()
    {
        var open = RunningSlot.FromRaw(UmcgConstants.TidOpen);
        Assert.True(open.IsOpen);
        Assert.Equal(RunningSlot.Open, open);
        Assert.False(open.IsPick);
        Assert.False(open.IsRunning);
        Assert.False(open.IsEmpty);
        Assert.Equal(0, open.Tid);
        Assert.Equal("open", open.ToString());
        Assert.False(RunningSlot.Pick(5).IsOpen);
        Assert.False(RunningSlot.Running(5).IsOpen);
    }

    /// <summary>
    /// The server (RUNNING, idle, nothing queued) opens and sleeps: RUNNABLE|COND_WAIT, next_tid = TID_OPEN, Wait. Returns
    /// its pending Wait once it is RUNNABLE (a claim from then on finds it open, and its Wait sleeps on or returns EAGAIN
    /// only for a wake).
    /// </summary>
    private static Task<Errno> SleepOpen(Rig rig, Party server)
    {
        Assert.Equal(TaskState.Running, server.State);
        Assert.Equal(0u, server.NextTid);
        var sleep = server.Post(() =>
        {
            Assert.True(StateWord.PrepareWait(server.Task), "server was not RUNNING before Wait");
            Volatile.Write(ref server.Task->NextTid, UmcgConstants.TidOpen);
            return rig.Kernel.Wait(0, 0);
        });
        rig.Until(() => server.State == TaskState.Runnable && server.NextTid == UmcgConstants.TidOpen, "server asleep open");
        return sleep;
    }
}
