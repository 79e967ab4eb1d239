using Xunit.Abstractions;

namespace Umcg.Tests.Kernel;

/// <summary>
/// Conformance of the kernel half's background state (UmcgKernel.Background.cs): K9 demote and K10 adopt, each exit a
/// background worker takes by itself (block, safepoint, wait, a refused switch, unregister), a TF_BACKGROUND that user
/// code wrote, and invariant I1′ — at most one worker of a server runs in the foreground, the one its record names.
/// </summary>
public sealed unsafe class BackgroundConformanceTests(ITestOutputHelper output)
{
    public static TheoryData<string, string, bool> BothParkersEachQueueingExitQuietOrNot() =>
        ParkerCases.Each(("safepoint", false), ("safepoint", true), ("wait", false), ("wait", true));

    public static TheoryData<string, string> BothParkersEachWayOut() => ParkerCases.Each("sys_enter", "safepoint", "wait");

    public static TheoryData<string, string> BothParkersEachScribbledExit() => ParkerCases.Each("sys_enter", "yield", "unregister");

    public static TheoryData<string, string, string> BothParkersEachRace() =>
        ParkerCases.Each(("demote", "sys_enter"), ("demote", "safepoint"), ("adopt", "sys_enter"));

    [Theory]
    [BothParkers]
    public void Demote_refuses_anything_but_its_own_running_worker_asked_to_give_way_and_changes_nothing(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var other = rig.Server();
        var blocked = rig.BlockedWorker(server);
        var foreign = rig.RunningWorkerServerAwake(other);
        var w = rig.RunningWorkerServerAwake(server);
        var queued = rig.ExtraQueuedWorker(server, out var queuedRegistration);
        Assert.True(StateWord.RequestPreempt(foreign.Task));
        Party[] everyone = [other, blocked, foreign, queued];

        Errno ByServer(int tid) => server.Call(() => rig.Kernel.Demote(tid));
        void Refused(Errno expected, Func<Errno> demote, string what) => AssertRefused(rig, expected, demote, what, server, w, everyone);

        Refused(Errno.EAGAIN, () => ByServer(w.Tid), "a running worker not asked to give way");
        Assert.True(StateWord.RequestPreempt(w.Task));
        Refused(Errno.EINVAL, () => w.Call(() => rig.Kernel.Demote(w.Tid)), "called by the worker itself");
        Refused(Errno.EINVAL, () => rig.OnFreshThread(() => rig.Kernel.Demote(w.Tid)), "called by a thread that is no task");
        Refused(Errno.EINVAL, () => other.Call(() => rig.Kernel.Demote(w.Tid)), "called by a server the worker does not name");
        Refused(Errno.EINVAL, () => ByServer(foreign.Tid), "another server's worker");
        Refused(Errno.EINVAL, () => ByServer(server.Tid), "the server itself");
        Refused(Errno.EINVAL, () => ByServer(other.Tid), "another server");
        Refused(Errno.ESRCH, () => ByServer(Rig.NoSuchTid), "no task");
        Refused(Errno.EAGAIN, () => ByServer(queued.Tid), "a RUNNABLE worker");
        Refused(Errno.EAGAIN, () => ByServer(blocked.Tid), "a BLOCKED worker");

        // RUNNING|TF_PREEMPT written into a worker the record does not name: not running for the caller.
        uint blockedWord = blocked.Word;
        Volatile.Write(ref blocked.Task->State, (blockedWord & ~UmcgConstants.StateMask) | (uint)TaskState.Running | (uint)TaskFlags.Preempt);
        Refused(Errno.EAGAIN, () => ByServer(blocked.Tid), "a worker whose word says RUNNING|TF_PREEMPT but whom the record does not name");
        Volatile.Write(ref blocked.Task->State, blockedWord);

        rig.Demote(server, w);
        Refused(Errno.EAGAIN, () => ByServer(w.Tid), "a worker already in the background");

        // Everyone still goes on: the background worker leaves by itself, the others are run and finish.
        Assert.Equal(Errno.Ok, w.Unregister(CtlFlags.Worker));
        rig.Retire(w);
        rig.RunAndFinish(server, queued, queuedRegistration, "the queued worker run");
        rig.RunAndFinish(server, blocked, rig.BeginSysExit(server, blocked), "the blocked worker unblocked and run");
        rig.FinishWithServerAwake(foreign, other);
        rig.Stop(other);
        rig.Stop(server);
    }

    [Theory]
    [BothParkers]
    public void After_a_demote_the_server_runs_another_worker_beside_the_background_one_and_only_that_one_is_in_the_foreground(string parker)
    {
        using var rig = new Rig(parker);
        var s = BackgroundBesideForeground(rig);

        // Two workers RUNNING on one server, one in the foreground: the record and its mirror name the started one.
        Assert.Equal(TaskState.Running, s.Background.State);
        Assert.Equal(TaskState.Running, s.Foreground.State);
        Assert.Equal(TaskState.Runnable, s.Server.State);
        rig.AssertOneForeground(s.Server, s.Background, s.Foreground, s.Spare);

        // The background worker's exit wakes nobody (it holds nothing); the foreground one's wakes its server.
        Assert.Equal(Errno.Ok, s.Background.Unregister(CtlFlags.Worker));
        rig.Retire(s.Background);
        Assert.Equal(TaskState.Runnable, s.Server.State);
        Assert.Equal(s.Foreground.Tid, rig.RecordOf(s.Server));
        EndScene(rig, s);
    }

    [Theory]
    [BothParkers]
    public void A_background_block_switches_to_nobody_wakes_nobody_and_leaves_next_tid(string parker)
    {
        using var rig = new Rig(parker);
        var s = BackgroundBesideForeground(rig);
        Volatile.Write(ref s.Background.Task->NextTid, (uint)s.Spare.Tid);
        var untouched = BlockSnapshot.Of(s.Server, s.Foreground, s.Spare);

        Assert.Equal(Errno.Ok, s.Background.SysEnter());

        // BLOCKED, out of the background; no switch to the spare it names; the server sleeps on over its foreground worker.
        Assert.Equal(TaskState.Blocked, s.Background.State);
        Assert.Equal(TaskFlags.None, s.Background.Flags);
        Assert.False(rig.IsMarkedBackground(s.Background));
        Assert.Equal((uint)s.Spare.Tid, s.Background.NextTid);
        untouched.AssertUnchanged();
        Assert.Equal(s.Foreground.Tid, rig.RecordOf(s.Server));
        Assert.False(s.SpareRegistration.IsCompleted, "the spare ran although nobody switched to it");
        Assert.False(s.ServerWait.IsCompleted, "the server returned although its worker still runs");

        // Its unblock is an ordinary one: queued and run by its server.
        rig.Finish(s.Foreground, s.Server, s.ServerWait);
        Volatile.Write(ref s.Background.Task->NextTid, 0);
        rig.RunAndFinish(s.Server, s.Spare, s.SpareRegistration, "the spare worker run");
        rig.RunAndFinish(s.Server, s.Background, rig.BeginSysExit(s.Server, s.Background), "the blocked worker unblocked and run");
        rig.Stop(s.Server);
    }

    [Theory]
    [MemberData(nameof(BothParkersEachQueueingExitQuietOrNot))]
    public void A_background_safepoint_or_wait_queues_the_worker_like_an_arrival(string parker, string exit, bool quiet)
    {
        using var rig = new Rig(parker);
        var s = BackgroundBesideForeground(rig);
        if (quiet)
        {
            // Margin 2, both ranks 3: quiet beside the foreground worker, as an unblocking arrival would be.
            StateWord.SetArrival(s.Server.Task, 2);
            StateWord.SetArrival(s.Foreground.Task, 3);
            StateWord.SetArrival(s.Background.Task, 3);
        }

        var untouched = BlockSnapshot.Of(s.Foreground, s.Spare);
        var pending = exit == "safepoint" ? s.Background.Post(() => rig.Kernel.NotifyResume()) : rig.BeginYield(s.Background);

        // Queued on its server's list, RUNNABLE with no flag left, out of the background; the record untouched.
        rig.Until(() => s.Server.ListHead == s.Background.Block.Address, "the background worker on its server's list");
        if (quiet)
        {
            // Asleep in its park: whatever it was going to do before sleeping (a wake) is done.
            rig.Until(() => ThreadProc.Sleeping(s.Background.Tid), "the queued worker asleep");
            Assert.Equal(TaskState.Runnable, s.Server.State);
            Assert.False(s.ServerWait.IsCompleted, "a quiet arrival from the background woke its server");
        }
        else
        {
            Assert.Equal(Errno.Ok, s.Server.Result(s.ServerWait, "the server woken by the worker leaving the background"));
            Assert.Equal(TaskState.Running, s.Server.State);
        }

        Assert.Equal(TaskState.Runnable, s.Background.State);
        Assert.Equal(TaskFlags.None, s.Background.Flags);
        Assert.False(rig.IsMarkedBackground(s.Background));
        Assert.Equal(0u, s.Background.NextTid);
        rig.Until(() => ThreadProc.Sleeping(s.Background.Tid), "the queued worker asleep");
        rig.AssertNoReadSectionLeftOpen($"the worker queued by its {exit} from the background");
        Assert.False(pending.IsCompleted, $"the {exit} returned although nobody ran the worker");
        Assert.Equal(s.Foreground.Tid, rig.RecordOf(s.Server));
        Assert.Equal((uint)s.Foreground.Tid | UmcgConstants.TidRunning, s.Server.NextTid);
        untouched.AssertUnchanged();
        rig.AssertOneForeground(s.Server, s.Background, s.Foreground, s.Spare);

        if (quiet)
        {
            StateWord.SetArrival(s.Server.Task, 0);
            rig.Finish(s.Foreground, s.Server, s.ServerWait);
        }
        else
        {
            rig.FinishWithServerAwake(s.Foreground, s.Server);
        }

        var drained = new List<int>();
        rig.Finish(s.Background, s.Server, rig.Run(s.Server, s.Background, pending, $"the worker run again after its {exit}", drained));
        Assert.Equal([s.Background.Tid], drained);
        rig.RunAndFinish(s.Server, s.Spare, s.SpareRegistration, "the spare worker run");
        rig.Stop(s.Server);
    }

    [Theory]
    [BothParkers]
    public void A_background_wait_that_names_a_successor_is_refused_before_any_side_effect(string parker)
    {
        using var rig = new Rig(parker);
        var s = BackgroundBesideForeground(rig);
        var untouched = BlockSnapshot.Of(s.Server, s.Foreground, s.Spare);

        Assert.Equal(Errno.EAGAIN, s.Background.Result(rig.BeginYield(s.Background, s.Spare.Tid), "a switch from the background"));

        // Still in the background (the refusal cleared TF_COND_WAIT and the TF_PREEMPT PrepareWait dropped), next_tid as
        // it was, the spare not started, nothing queued, nobody woken.
        rig.AssertInBackground(s.Server, s.Background, TaskFlags.Background);
        Assert.Equal((uint)s.Spare.Tid, s.Background.NextTid);
        untouched.AssertUnchanged();
        Assert.False(s.SpareRegistration.IsCompleted, "the spare ran although the switch was refused");
        Assert.False(s.ServerWait.IsCompleted, "the server returned although its worker still runs");
        rig.AssertOneForeground(s.Server, s.Background, s.Foreground, s.Spare);

        Assert.Equal(Errno.Ok, s.Background.Unregister(CtlFlags.Worker));
        rig.Retire(s.Background);
        EndScene(rig, s);
    }

    [Theory]
    [BothParkers]
    public void A_background_unregister_hands_on_nothing_and_wakes_nobody(string parker)
    {
        using var rig = new Rig(parker);
        var s = BackgroundBesideForeground(rig);
        Volatile.Write(ref s.Background.Task->NextTid, (uint)s.Spare.Tid);
        var untouched = BlockSnapshot.Of(s.Server, s.Foreground, s.Spare);

        Assert.Equal(Errno.Ok, s.Background.Unregister(CtlFlags.Worker));

        Assert.Equal(TaskState.None, s.Background.State);
        Assert.False(s.Background.IsRegisteredThread);
        untouched.AssertUnchanged();
        Assert.Equal(s.Foreground.Tid, rig.RecordOf(s.Server));
        Assert.False(s.SpareRegistration.IsCompleted, "the spare ran although a background worker has no CPU to hand on");
        Assert.False(s.ServerWait.IsCompleted, "the server returned although its worker still runs");

        rig.Retire(s.Background);
        EndScene(rig, s);
    }

    [Theory]
    [BothParkers]
    public void Adopt_runs_a_background_worker_in_the_foreground_again(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var w = rig.RunningWorkerServerAwake(server);
        rig.Demote(server, w);

        Assert.Equal(Errno.Ok, server.Call(() => rig.Kernel.Adopt(w.Tid)));

        // The record and its mirror name it, its flags are gone, and the server is as it was (awake: no wake needed).
        rig.AssertInForeground(server, w);
        Assert.Equal(TaskState.Running, server.State);

        // A foreground worker again: its block releases the record and wakes its sleeping server.
        rig.QueueWithServerAsleep(server, () => Task.FromResult(w.SysEnter()), "the adopted worker's block");
        Assert.Equal(TaskState.Blocked, w.State);
        Assert.Equal(0, rig.RecordOf(server));
        Assert.Equal(0u, server.NextTid);
        rig.RunAndFinish(server, w, rig.BeginSysExit(server, w), "the adopted worker unblocked and run");
        rig.Stop(server);
    }

    [Theory]
    [BothParkers]
    public void Adopt_refuses_a_busy_record_and_workers_not_in_its_background_and_changes_nothing(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var other = rig.Server();
        var foreign = rig.RunningWorkerServerAwake(other);
        var w1 = rig.RunningWorkerServerAwake(server);
        var w2 = rig.ExtraQueuedWorker(server, out var registration2);
        Party[] everyone = [other, foreign, w2];

        Errno ByServer(int tid) => server.Call(() => rig.Kernel.Adopt(tid));
        void Refused(Errno expected, Func<Errno> adopt, string what) => AssertRefused(rig, expected, adopt, what, server, w1, everyone);

        Refused(Errno.EAGAIN, () => ByServer(w1.Tid), "a worker running in the foreground");

        // TF_BACKGROUND written by user code, without the kernel half's mark: not the background.
        ScribbleBackground(w1);
        Refused(Errno.EAGAIN, () => ByServer(w1.Tid), "a worker whose TF_BACKGROUND user code wrote");
        Interlocked.And(ref w1.Task->State, ~(uint)TaskFlags.Background);

        rig.Demote(server, w1);
        Refused(Errno.EINVAL, () => w1.Call(() => rig.Kernel.Adopt(w1.Tid)), "called by the worker itself");
        Refused(Errno.EINVAL, () => rig.OnFreshThread(() => rig.Kernel.Adopt(w1.Tid)), "called by a thread that is no task");
        Refused(Errno.EINVAL, () => other.Call(() => rig.Kernel.Adopt(w1.Tid)), "called by a server the worker does not name");
        Refused(Errno.EINVAL, () => ByServer(foreign.Tid), "another server's worker");
        Refused(Errno.EINVAL, () => ByServer(other.Tid), "another server");
        Refused(Errno.ESRCH, () => ByServer(Rig.NoSuchTid), "no task");
        Refused(Errno.EAGAIN, () => ByServer(w2.Tid), "a RUNNABLE worker");

        // The server started w2 beside the background w1: its record is busy.
        rig.StartWithServerAwake(server, w2);
        Assert.Equal(Errno.Ok, w2.Result(registration2, "w2 started beside the background worker"));
        Refused(Errno.EBUSY, () => ByServer(w1.Tid), "a background worker while the record names another");
        rig.AssertOneForeground(server, w1, w2);

        // Once the record is free, the same adoption succeeds.
        rig.FinishWithServerAwake(w2, server);
        Assert.Equal(Errno.Ok, ByServer(w1.Tid));
        rig.AssertInForeground(server, w1);
        rig.FinishWithServerAwake(w1, server);
        rig.FinishWithServerAwake(foreign, other);
        rig.Stop(other);
        rig.Stop(server);
    }

    [Theory]
    [MemberData(nameof(BothParkersEachWayOut))]
    public void Adopt_after_the_worker_left_the_background_by_itself_is_EAGAIN_and_changes_nothing(string parker, string wayOut)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var w = rig.RunningWorkerServerAwake(server);
        rig.Demote(server, w);

        Task<Errno>? pending = null;
        if (wayOut == "sys_enter")
        {
            Assert.Equal(Errno.Ok, w.SysEnter());
        }
        else
        {
            pending = wayOut == "safepoint" ? w.Post(() => rig.Kernel.NotifyResume()) : rig.BeginYield(w);
            rig.Until(() => server.ListHead == w.Block.Address, "the worker queued by its way out of the background");
            rig.Until(() => ThreadProc.Sleeping(w.Tid), "the queued worker asleep");
            rig.AssertNoReadSectionLeftOpen($"the worker queued by its {wayOut} from the background");
        }

        var untouched = BlockSnapshot.Of(server, w);
        Assert.Equal(Errno.EAGAIN, server.Call(() => rig.Kernel.Adopt(w.Tid)));
        untouched.AssertUnchanged();
        Assert.Equal(0, rig.RecordOf(server));
        Assert.False(rig.IsMarkedBackground(w));

        rig.RunAndFinish(server, w, pending ?? rig.BeginSysExit(server, w), $"the worker run after its {wayOut}");
        rig.Stop(server);
    }

    [Theory]
    [MemberData(nameof(BothParkersEachScribbledExit))]
    public void A_TF_BACKGROUND_that_user_code_wrote_is_not_the_background(string parker, string exit)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var (w, serverWait) = rig.RunningWorker(server);
        ScribbleBackground(w);
        Assert.False(rig.IsMarkedBackground(w));

        // Each exit behaves as a foreground one: the record is released and the server woken.
        var yield = exit == "yield" ? rig.BeginYield(w) : null;
        var done = exit switch
        {
            "sys_enter" => w.SysEnter(),
            "unregister" => w.Unregister(CtlFlags.Worker),
            _ => Errno.Ok,
        };
        Assert.Equal(Errno.Ok, done);
        Assert.Equal(Errno.Ok, server.Result(serverWait, $"the server woken by the {exit} of a worker with a scribbled flag"));
        Assert.Equal(0, rig.RecordOf(server));
        Assert.Equal(0u, server.NextTid);

        switch (exit)
        {
            case "sys_enter":
                Assert.Equal(TaskState.Blocked, w.State);
                Assert.Equal(TaskFlags.None, w.Flags);
                rig.RunAndFinish(server, w, rig.BeginSysExit(server, w), "the worker unblocked and run");
                break;
            case "yield":
                Assert.Equal(w.Block.Address, server.ListHead);
                Assert.Equal(TaskState.Runnable, w.State);
                Assert.Equal(TaskFlags.None, w.Flags);
                rig.RunAndFinish(server, w, yield!, "the worker run after its yield");
                break;
            default:
                rig.Retire(w);
                break;
        }

        rig.Stop(server);
    }

    [Theory]
    [MemberData(nameof(BothParkersEachRace))]
    public void A_demote_or_adopt_racing_the_workers_own_transition_is_won_by_exactly_one_of_them(string parker, string op, string call)
    {
        const int Iterations = 300;
        using var rig = new Rig(parker);
        var server = rig.Server();
        var running = rig.RunningWorkerServerAwake(server);
        var waiting = rig.ExtraQueuedWorker(server, out var waitingPending);
        Assert.Equal([waiting.Tid], rig.Drain(server));
        using var gate = new Barrier(2);

        int won = 0;
        for (int i = 0; i < Iterations; i++)
        {
            // The worker that ran is now RUNNABLE and off the list, the other runs in the foreground: swap roles.
            var (opWon, pending) = Race(rig, server, running, waiting, waitingPending, op, call, gate);
            won += opWon ? 1 : 0;
            (running, waiting, waitingPending) = (waiting, running, pending);
        }

        rig.FinishWithServerAwake(running, server);
        rig.RunAndFinish(server, waiting, waitingPending, "the last waiting worker run");
        rig.Stop(server);
        output.WriteLine($"{op} against {call}: the {op} won {won} of {Iterations} rounds");
    }

    /// <summary>
    /// One round of <see cref="A_demote_or_adopt_racing_the_workers_own_transition_is_won_by_exactly_one_of_them"/>.
    /// <paramref name="running"/> runs in the foreground, asked to give way. "demote": the server demotes it while it
    /// blocks (naming <paramref name="waiting"/> as its successor) or passes a safepoint. "adopt": it is demoted first,
    /// then the server adopts it while it blocks, naming <paramref name="waiting"/>. Exactly one wins: a block from the
    /// background switches to nobody (next_tid left, the record empty), one from the foreground hands the record to
    /// <paramref name="waiting"/>; a safepoint queues the worker and leaves the record empty either way. Afterwards
    /// <paramref name="waiting"/> runs in the foreground and <paramref name="running"/> is RUNNABLE and off the list.
    /// Returns whether the server's call won, and the worker's pending call that completes once it runs again.
    /// </summary>
    private static (bool OpWon, Task<Errno> Pending) Race(
        Rig rig, Party server, Party running, Party waiting, Task<Errno> waitingPending, string op, string call, Barrier gate)
    {
        rig.AssertInForeground(server, running);
        bool adopt = op == "adopt";
        bool block = call == "sys_enter";
        if (block)
        {
            Volatile.Write(ref running.Task->NextTid, (uint)waiting.Tid);
        }

        if (adopt)
        {
            rig.Demote(server, running);
        }
        else
        {
            Assert.True(StateWord.RequestPreempt(running.Task));
        }

        var serverCall = server.Post(() =>
        {
            gate.SignalAndWait();
            return adopt ? rig.Kernel.Adopt(running.Tid) : rig.Kernel.Demote(running.Tid);
        });
        var own = running.Post(() =>
        {
            gate.SignalAndWait();
            return block ? rig.Kernel.SysEnter() : rig.Kernel.NotifyResume();
        });

        var r = server.Result(serverCall, $"the {op} racing the worker");
        Assert.True(r is Errno.Ok or Errno.EAGAIN, $"{op}: {r}");
        bool won = r == Errno.Ok;
        Task<Errno> pending;
        if (block)
        {
            Assert.Equal(Errno.Ok, running.Result(own, $"the worker's block racing the {op}"));
            Assert.Equal(TaskState.Blocked, running.State);
            Assert.Equal(TaskFlags.None, running.Flags);
            Assert.False(rig.IsMarkedBackground(running));
            if (won != adopt)
            {
                // The block came from the background: no switch; next_tid left, the successor not started, record empty.
                Assert.Equal((uint)waiting.Tid, running.NextTid);
                Assert.Equal(0, rig.RecordOf(server));
                Assert.Equal(0u, server.NextTid);
                Assert.Equal(TaskState.Runnable, waiting.State);
                Assert.False(waitingPending.IsCompleted, "the successor ran although the block came from the background");
                Volatile.Write(ref running.Task->NextTid, 0);
                rig.StartWithServerAwake(server, waiting);
            }
            else
            {
                // The block came from the foreground: it handed the record to its successor itself.
                Assert.Equal(0u, running.NextTid);
            }

            Assert.Equal(Errno.Ok, waiting.Result(waitingPending, "the successor run"));
            pending = running.Post(() => rig.Kernel.SysExit());
            rig.Until(() => server.ListHead == running.Block.Address, "the unblocked worker on the list");
            rig.Until(() => ThreadProc.Sleeping(running.Tid), "the unblocked worker asleep");
            Assert.Equal([running.Tid], rig.Drain(server));
        }
        else
        {
            // Either way the safepoint queued the worker and nobody holds the record: the demote emptied it, or the
            // worker released it itself.
            rig.Until(() => server.ListHead == running.Block.Address, "the worker queued by its safepoint");
            rig.Until(() => ThreadProc.Sleeping(running.Tid), "the queued worker asleep, done with its record");
            Assert.Equal(TaskState.Runnable, running.State);
            Assert.Equal(TaskFlags.None, running.Flags);
            Assert.False(rig.IsMarkedBackground(running));
            Assert.Equal(0, rig.RecordOf(server));
            Assert.Equal(0u, server.NextTid);
            Assert.False(own.IsCompleted, "the safepoint returned although nobody ran the worker");
            Assert.Equal([running.Tid], rig.Drain(server));
            rig.StartWithServerAwake(server, waiting);
            Assert.Equal(Errno.Ok, waiting.Result(waitingPending, "the other worker run"));
            pending = own;
        }

        rig.AssertInForeground(server, waiting);
        return (won, pending);
    }

    /// <summary>
    /// A server and three workers: w1 demoted while the server was awake, then w2 started beside it (the server asleep in
    /// Wait over w2), and a spare RUNNABLE, off the list, its registration pending.
    /// </summary>
    private static BackgroundScene BackgroundBesideForeground(Rig rig)
    {
        var server = rig.Server();
        var background = rig.RunningWorkerServerAwake(server);
        var foreground = rig.ExtraQueuedWorker(server, out var foregroundRegistration);
        var spare = rig.ExtraQueuedWorker(server, out var spareRegistration);
        rig.Demote(server, background);

        var drained = new List<int>();
        var serverWait = rig.Run(server, foreground, foregroundRegistration, "a worker started beside the background one", drained);
        Assert.Equal(new[] { foreground.Tid, spare.Tid }.Order(), drained.Order());
        rig.AssertInForeground(server, foreground);
        rig.AssertInBackground(server, background, TaskFlags.Preempt | TaskFlags.Background);
        Assert.False(spareRegistration.IsCompleted, "the spare ran although nobody started it");
        return new BackgroundScene(server, background, foreground, serverWait, spare, spareRegistration);
    }

    /// <summary>
    /// The end of a scene whose background worker is gone: the foreground worker leaves (waking its server), the spare
    /// is run and leaves, and the server stops.
    /// </summary>
    private static void EndScene(Rig rig, BackgroundScene s)
    {
        rig.Finish(s.Foreground, s.Server, s.ServerWait);
        rig.RunAndFinish(s.Server, s.Spare, s.SpareRegistration, "the spare worker run");
        rig.Stop(s.Server);
    }

    /// <summary>
    /// <paramref name="call"/> returns <paramref name="expected"/> and changes nothing: no block of
    /// <paramref name="server"/>, <paramref name="worker"/> or <paramref name="others"/>, nor the record, nor the mark.
    /// </summary>
    private static void AssertRefused(Rig rig, Errno expected, Func<Errno> call, string what, Party server, Party worker, Party[] others)
    {
        var untouched = BlockSnapshot.Of([server, worker, .. others]);
        int record = rig.RecordOf(server);
        bool marked = rig.IsMarkedBackground(worker);

        var r = call();

        Assert.True(r == expected, $"{what}: {r}, expected {expected}");
        untouched.AssertUnchanged();
        Assert.Equal(record, rig.RecordOf(server));
        Assert.Equal(marked, rig.IsMarkedBackground(worker));
    }

    /// <summary>User code sets TF_BACKGROUND in a running worker's word, without the kernel half's mark.</summary>
    private static void ScribbleBackground(Party worker) => Interlocked.Or(ref worker.Task->State, (uint)TaskFlags.Background);

    /// <summary>What <see cref="BackgroundBesideForeground"/> builds.</summary>
    private sealed record BackgroundScene(
        Party Server, Party Background, Party Foreground, Task<Errno> ServerWait, Party Spare, Task<Errno> SpareRegistration);
}
