namespace Umcg.Tests.Kernel;

/// <summary>
/// Conformance of Kick: ESRCH for anything that is not a task of this kernel half, EINVAL for flags, and a
/// kick makes the target re-check its state (a sleeper sleeps again; a running worker acts at its next
/// safepoint, since a running managed thread cannot be interrupted).
/// </summary>
public sealed unsafe class KickConformanceTests
{
    private static long KicksOf(Rig rig, int tid) => rig.Kernel.Tasks.TryGet((uint)tid, out var t) ? Interlocked.Read(ref t.Kicks) : -1;

    /// <summary>
    /// Kicks <paramref name="sleeper"/> once its thread sleeps, and waits until the kick woke it (it went to sleep
    /// once more since) and it went back to sleep: it re-checked its state and found nothing to do.
    /// </summary>
    private static void KickAndSeeItSleepAgain(Rig rig, Party sleeper, string who)
    {
        rig.Until(() => ThreadProc.Sleeping(sleeper.Tid), $"{who} asleep");
        long switches = ThreadProc.VoluntarySwitches(sleeper.Tid);
        Assert.Equal(Errno.Ok, rig.Kernel.Kick(0, sleeper.Tid));
        Assert.Equal(1, KicksOf(rig, sleeper.Tid));
        rig.Until(() => ThreadProc.VoluntarySwitches(sleeper.Tid) > switches && ThreadProc.Sleeping(sleeper.Tid), $"{who} woken and asleep again");
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Kick_of_a_tid_that_is_not_a_task_is_ESRCH(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var outsiders = new Outsiders(rig);
        var untouched = BlockSnapshot.Of(server);

        int[] notTasks =
        [
            0, -1, int.MinValue, .. outsiders.Tids,
            server.Tid | 0x4000_0000, (int)((uint)server.Tid | UmcgConstants.TidRunning),
        ];
        foreach (int tid in notTasks)
        {
            Assert.Equal(Errno.ESRCH, rig.Kernel.Kick(0, tid));

            // ESRCH wins over bad flags, as in the RFC.
            Assert.Equal(Errno.ESRCH, rig.Kernel.Kick(1, tid));
        }

        untouched.AssertUnchanged();
        Assert.Equal(0, KicksOf(rig, server.Tid));
        Assert.Equal((uint)TaskState.Running, outsiders.Foreign.Word);
        rig.AssertServerUsable(server);
        rig.Stop(server);
        outsiders.Leave(rig);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Kick_with_flags_is_EINVAL(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var (w, serverWait) = rig.RunningWorker(server);
        var untouched = BlockSnapshot.Of(server, w);
        foreach (uint flags in new uint[] { 1, 2, 0x100, 0x8000_0000 })
        {
            Assert.Equal(Errno.EINVAL, rig.Kernel.Kick(flags, server.Tid));
            Assert.Equal(Errno.EINVAL, rig.Kernel.Kick(flags, w.Tid));
        }

        untouched.AssertUnchanged();
        Assert.Equal(0, KicksOf(rig, server.Tid));
        Assert.Equal(0, KicksOf(rig, w.Tid));
        rig.AssertRunningFor(server, w);
        rig.Finish(w, server, serverWait);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Kick_of_a_waiting_worker_makes_it_recheck_and_sleep_again(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var (w, registration) = rig.QueuedWorker(server);
        uint word = w.Word;

        // It woke and, still RUNNABLE, went back to sleep without running.
        KickAndSeeItSleepAgain(rig, w, "worker");
        Assert.Equal(word, w.Word);
        Assert.False(registration.IsCompleted);
        Assert.Equal(w.Block.Address, server.ListHead);

        rig.RunAndFinish(server, w, registration, "worker run");
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Kick_of_a_waiting_server_makes_it_recheck_and_sleep_again(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var (w, serverWait) = rig.RunningWorker(server);
        var untouched = BlockSnapshot.Of(server);
        KickAndSeeItSleepAgain(rig, server, "server");
        untouched.AssertUnchanged();
        Assert.False(serverWait.IsCompleted);
        rig.AssertRunningFor(server, w);

        rig.Finish(w, server, serverWait);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Kick_of_a_running_worker_acts_at_its_next_safepoint(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var (w, serverWait) = rig.RunningWorker(server);

        // Without TF_PREEMPT a kick changes nothing, now or at the safepoint.
        var untouched = BlockSnapshot.Of(w);
        Assert.Equal(Errno.Ok, rig.Kernel.Kick(0, w.Tid));
        Assert.Equal(Errno.Ok, w.NotifyResume());
        untouched.AssertUnchanged();
        rig.AssertRunningFor(server, w);

        // With TF_PREEMPT: the kick cannot interrupt the running thread; the worker stays RUNNING until its
        // next safepoint, where it is preempted (queued, server woken) and waits to be run again.
        Assert.True(StateWord.RequestPreempt(w.Task));
        Assert.Equal(Errno.Ok, rig.Kernel.Kick(0, w.Tid));
        Assert.Equal((uint)TaskState.Running | (uint)TaskFlags.Preempt, w.Word);
        rig.AssertRunningFor(server, w);

        var safepoint = w.Post(() => rig.Kernel.NotifyResume());
        Assert.Equal(Errno.Ok, server.Result(serverWait, "server woken by the preemption"));
        Assert.Equal((uint)TaskState.Runnable, w.Word);
        Assert.Equal(0u, server.NextTid);
        var drained = new List<int>();
        serverWait = rig.Run(server, w, safepoint, "worker run after preemption", drained);
        Assert.Equal([w.Tid], drained);
        Assert.Equal((uint)TaskState.Running, w.Word);
        rig.Finish(w, server, serverWait);
    }
}
