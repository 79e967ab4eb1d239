namespace Umcg.Tests.Kernel;

/// <summary>
/// Conformance of the kernel half's two extensions of the RFC for the hot path: a block that names its successor
/// in next_tid (K3s) and quiet arrivals (K4q), with the look at the list after a switch that keeps them safe.
/// </summary>
public sealed unsafe class SuccessorConformanceTests
{
    private const long SysFutex = 202; // x86-64

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void SysEnter_with_next_tid_hands_the_record_to_the_successor_and_leaves_the_server_asleep(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var (w1, w2, registration2, serverWait) = rig.FirstOfTwoQueuedWorkersRunning(server);

        Assert.Equal(Errno.Ok, BlockNaming(w1, w2.Tid));

        // w2 runs by w1's block: the record and its mirror name it, next_tid is consumed, and the server was not
        // woken (its word would be RUNNING: the wake's CAS comes before SysEnter returns).
        Assert.Equal(Errno.Ok, w2.Result(registration2, "w2 run by w1's block"));
        rig.AssertRunningFor(server, w2);
        Assert.Equal(TaskState.Blocked, w1.State);
        Assert.Equal(0u, w1.NextTid);
        Assert.False(serverWait.IsCompleted, "the server returned from its Wait although nobody released its record");

        // w2 leaves through the server, which then runs w1 once it unblocks.
        rig.Finish(w2, server, serverWait);
        rig.RunAndFinish(server, w1, rig.BeginSysExit(server, w1), "w1 unblocked and run");
        rig.Stop(server);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void SysEnter_with_a_next_tid_that_names_no_runnable_worker_of_the_server_changes_nothing(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var other = rig.Server();
        var blocked = rig.BlockedWorker(server);
        var (foreign, foreignWait) = rig.RunningWorker(other);
        var (w1, w2, registration2, serverWait) = rig.FirstOfTwoQueuedWorkersRunning(server);

        (int Tid, Errno Expected, string What)[] cases =
        [
            (Rig.NoSuchTid, Errno.ESRCH, "no task"),
            ((int)((uint)w2.Tid | UmcgConstants.TidRunning), Errno.ESRCH, "a TID with bit 31 set"),
            (w1.Tid, Errno.EINVAL, "the caller itself"),
            (server.Tid, Errno.EINVAL, "a server"),
            (foreign.Tid, Errno.EINVAL, "another server's worker"),
            (blocked.Tid, Errno.EAGAIN, "a BLOCKED worker"),
        ];
        foreach (var (tid, expected, what) in cases)
        {
            Volatile.Write(ref w1.Task->NextTid, (uint)tid);
            var untouched = BlockSnapshot.Of(w1, w2, server);
            Assert.True(expected == w1.SysEnter(), $"next_tid naming {what}");
            untouched.AssertUnchanged();
            rig.AssertRunningFor(server, w1);
        }

        // Still usable: the plain block frees the record and wakes the server, which runs w2.
        Volatile.Write(ref w1.Task->NextTid, 0);
        Assert.Equal(Errno.Ok, w1.SysEnter());
        Assert.Equal(Errno.Ok, server.Result(serverWait, "server woken by the plain block"));
        rig.RunAndFinish(server, w2, registration2, "w2 run by the server");
        rig.RunAndFinish(server, w1, rig.BeginSysExit(server, w1), "w1 unblocked and run");
        rig.RunAndFinish(server, blocked, rig.BeginSysExit(server, blocked), "the blocked worker unblocked and run");
        rig.Finish(foreign, other, foreignWait);
        rig.Stop(other);
        rig.Stop(server);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void SysEnter_after_a_detector_blocked_the_worker_leaves_next_tid_for_the_caller_to_see(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var (w1, w2, registration2, serverWait) = rig.FirstOfTwoQueuedWorkersRunning(server);

        // A detector got there first: the server is released and woken; the worker's own block then names w2.
        Assert.Equal(Errno.Ok, rig.Kernel.MarkBlocked(w1.Tid));
        Assert.Equal(Errno.Ok, server.Result(serverWait, "server woken by the detector's block"));
        Assert.Equal(Errno.Ok, BlockNaming(w1, w2.Tid));

        // No switch: next_tid is left as it was, w2 still waits (user space gives it back to its server).
        Assert.Equal((uint)w2.Tid, w1.NextTid);
        Assert.Equal(TaskState.Runnable, w2.State);
        Assert.False(registration2.IsCompleted, "w2 ran although nobody switched to it");
        Volatile.Write(ref w1.Task->NextTid, 0);
        rig.RunAndFinish(server, w2, registration2, "w2 run by the server");
        rig.RunAndFinish(server, w1, rig.BeginSysExit(server, w1), "w1 unblocked and run");
        rig.Stop(server);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void An_arrival_below_the_margin_queues_without_waking_its_busy_server(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var arriving = rig.BlockedWorker(server);
        var (running, serverWait) = rig.RunningWorker(server);

        // Margin 2 (quiet up to the running worker's rank), both ranks 3.
        StateWord.SetArrival(server.Task, 2);
        StateWord.SetArrival(running.Task, 3);
        StateWord.SetArrival(arriving.Task, 3);
        var exit = arriving.Post(() => rig.Kernel.SysExit());
        rig.Until(() => server.ListHead == arriving.Block.Address, "the arrival on its server's list");

        Assert.Equal(TaskState.Runnable, server.State);
        Assert.False(serverWait.IsCompleted, "a quiet arrival woke its server");
        Assert.False(exit.IsCompleted, "the arrival ran although nobody ran it");

        // Whoever stops next drains it: here the running worker leaves through the server, which finds it.
        StateWord.SetArrival(server.Task, 0);
        rig.Finish(running, server, serverWait);
        rig.RunAndFinish(server, arriving, exit, "the quiet arrival run");
        rig.Stop(server);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void An_arrival_that_outranks_the_running_worker_or_finds_no_margin_wakes_its_server(string parker)
    {
        // (margin, rank of the running worker, rank of the arrival): each wakes the server.
        (byte Margin, byte RunningRank, byte ArrivalRank)[] cases = [(2, 3, 4), (1, 3, 3), (0, 3, 0)];
        foreach (var (margin, runningRank, arrivalRank) in cases)
        {
            using var rig = new Rig(parker);
            var server = rig.Server();
            var arriving = rig.BlockedWorker(server);
            var (running, serverWait) = rig.RunningWorker(server);
            StateWord.SetArrival(server.Task, margin);
            StateWord.SetArrival(running.Task, runningRank);
            StateWord.SetArrival(arriving.Task, arrivalRank);

            var exit = arriving.Post(() => rig.Kernel.SysExit());
            Assert.Equal(Errno.Ok, server.Result(serverWait, $"server woken by an arrival of rank {arrivalRank} (running {runningRank}, margin {margin})"));
            Assert.Equal(TaskState.Running, server.State);
            Assert.Equal((uint)running.Tid | UmcgConstants.TidRunning, server.NextTid);

            // The running worker leaves while the server is awake; the server then runs the arrival.
            rig.FinishWithServerAwake(running, server);
            rig.RunAndFinish(server, arriving, exit, "the arrival run");
            rig.Stop(server);
        }
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void A_switch_that_leaves_a_quiet_arrival_on_the_list_wakes_the_server(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();

        // The arrival judges itself against w1 (rank 5 ≤ 5: quiet) ...
        var (arriving, exit, w1, w2, registration2, serverWait) = QuietArrivalBesideW1(rig, server, successorRank: 0);
        Assert.False(serverWait.IsCompleted, "a quiet arrival woke its server");

        // ... but w1 hands the CPU to w2, whose rank is lower: the switch finds the arrival listed and wakes the
        // server, which decides with the policy.
        Assert.Equal(Errno.Ok, BlockNaming(w1, w2.Tid));
        Assert.Equal(Errno.Ok, w2.Result(registration2, "w2 run by w1's block"));
        Assert.Equal(Errno.Ok, server.Result(serverWait, "server woken by the switch's look at its list"));
        Assert.Equal((uint)w2.Tid | UmcgConstants.TidRunning, server.NextTid);
        Assert.Equal(TaskState.Running, w2.State);

        rig.FinishWithServerAwake(w2, server);
        rig.RunAndFinish(server, arriving, exit, "the arrival run");
        rig.RunAndFinish(server, w1, rig.BeginSysExit(server, w1), "w1 unblocked and run");
        rig.Stop(server);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void A_switch_to_a_successor_of_the_same_rank_or_higher_leaves_the_server_asleep(string parker)
    {
        foreach (byte successorRank in new byte[] { 5, 6 })
        {
            using var rig = new Rig(parker);
            var server = rig.Server();

            // The arrival judges itself against w1 (rank 5 ≤ 5: quiet), and is as quiet against w2.
            var (arriving, exit, w1, w2, registration2, serverWait) = QuietArrivalBesideW1(rig, server, successorRank);

            Assert.Equal(Errno.Ok, BlockNaming(w1, w2.Tid));
            Assert.Equal(Errno.Ok, w2.Result(registration2, $"w2 (rank {successorRank}) run by w1's block"));
            Assert.Equal((uint)w2.Tid | UmcgConstants.TidRunning, server.NextTid);
            Assert.False(serverWait.IsCompleted, $"a switch to a successor of rank {successorRank} woke the server");
            Assert.Equal(arriving.Block.Address, server.ListHead);
            Assert.False(exit.IsCompleted, "the arrival ran although nobody ran it");

            // w2 leaves through the server, which finds the arrival still listed and runs it.
            StateWord.SetArrival(server.Task, 0);
            rig.Finish(w2, server, serverWait);
            rig.RunAndFinish(server, arriving, exit, "the quiet arrival run");
            rig.RunAndFinish(server, w1, rig.BeginSysExit(server, w1), "w1 unblocked and run");
            rig.Stop(server);
        }
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void A_yield_to_a_successor_of_the_same_rank_leaves_the_server_asleep(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var (arriving, exit, w1, w2, registration2, serverWait) = QuietArrivalBesideW1(rig, server, successorRank: 5);

        // K2: w1 yields to w2 and queues itself behind the arrival. Its look at the list (skipped: w2 ranks as high)
        // comes before it sleeps in its Wait's futex, and a wake would have made the server RUNNING before that.
        var yielded = rig.BeginYield(w1, w2.Tid);
        Assert.Equal(Errno.Ok, w2.Result(registration2, "w2 run by w1's yield"));
        rig.Until(() => ProcTask.ThreadState(w1.Tid) == 'S' && ProcTask.CurrentSyscall(w1.Tid) == SysFutex, "w1 asleep in its Wait");
        Assert.Equal(TaskState.Runnable, server.State);
        Assert.False(serverWait.IsCompleted, "a yield to a successor of the same rank woke the server");
        Assert.False(exit.IsCompleted, "the arrival ran although nobody ran it");

        // w2 leaves through the server, which finds the arrival and w1 on its list.
        StateWord.SetArrival(server.Task, 0);
        rig.Finish(w2, server, serverWait);
        rig.RunAndFinish(server, arriving, exit, "the quiet arrival run");
        rig.RunAndFinish(server, w1, yielded, "w1 run again after its yield");
        rig.Stop(server);
    }

    /// <summary>
    /// Margin 2; w1 runs at rank 5 and w2 waits at <paramref name="successorRank"/>; an arrival of rank 5 leaves its
    /// region and, judging itself against w1, is on the list (whether its server stayed asleep is for the callers to
    /// assert).
    /// </summary>
    private static (Party Arriving, Task<Errno> Exit, Party W1, Party W2, Task<Errno> Registration2, Task<Errno> ServerWait) QuietArrivalBesideW1(
        Rig rig, Party server, byte successorRank)
    {
        var arriving = rig.BlockedWorker(server);
        var (w1, w2, registration2, serverWait) = rig.FirstOfTwoQueuedWorkersRunning(server);
        StateWord.SetArrival(server.Task, 2);
        StateWord.SetArrival(w1.Task, 5);
        StateWord.SetArrival(w2.Task, successorRank);
        StateWord.SetArrival(arriving.Task, 5);
        var exit = arriving.Post(() => rig.Kernel.SysExit());
        rig.Until(() => server.ListHead == arriving.Block.Address, "the arrival on the list");
        return (arriving, exit, w1, w2, registration2, serverWait);
    }

    /// <summary>
    /// The worker names <paramref name="nextTid"/> and enters a blocking region. (The server's drain that started
    /// the first of two queued workers took the second off the list: it waits RUNNABLE, as in a run queue.)
    /// </summary>
    private static Errno BlockNaming(Party worker, int nextTid)
    {
        Volatile.Write(ref worker.Task->NextTid, (uint)nextTid);
        return worker.SysEnter();
    }
}
