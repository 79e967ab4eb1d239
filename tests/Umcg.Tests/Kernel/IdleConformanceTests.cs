namespace Umcg.Tests.Kernel;

/// <summary>
/// K11: a worker BLOCKED in its own region offers itself (OfferIdle) and sleeps (IdleWait); another thread queues it
/// for its server (UnblockIdle) as its own SysExit would, without waking it; the server's start is its one wake.
/// </summary>
public sealed unsafe class IdleConformanceTests
{
    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void An_offered_worker_is_queued_by_another_thread_and_returns_only_once_its_server_runs_it(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var (w, idle) = OfferedAndWaiting(rig, server);

        // The unblock from a thread that is no task: RUNNABLE, on the server's list, the server woken (margin 0).
        var unblocked = Errno.EINVAL;
        rig.QueueWithServerAsleep(server, () => Task.FromResult(unblocked = rig.OnFreshThread(() => rig.Kernel.UnblockIdle(w.Task))), "idle worker queued");
        Assert.Equal(Errno.Ok, unblocked);
        Assert.Equal(TaskState.Runnable, w.State);
        Assert.Equal((ulong)w.Task, server.ListHead);
        Assert.False(idle.IsCompleted, "the idle wait returned before a server ran the worker");

        // A second unblock finds no offer: nothing changes.
        var untouched = BlockSnapshot.Of(w, server);
        Assert.Equal(Errno.EINVAL, rig.OnFreshThread(() => rig.Kernel.UnblockIdle(w.Task)));
        untouched.AssertUnchanged();

        var drained = new List<int>();
        var serverWait = rig.Run(server, w, idle, "idle worker run", drained);
        Assert.Equal([w.Tid], drained);
        rig.AssertRunningFor(server, w);
        rig.Finish(w, server, serverWait);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Without_an_offer_the_unblock_is_EINVAL_and_the_wait_EAGAIN(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();

        // A worker in a region of its own that made no offer ends it itself: nobody else may.
        var w = rig.BlockedWorker(server);
        var untouched = BlockSnapshot.Of(w, server);
        Assert.Equal(Errno.EINVAL, rig.OnFreshThread(() => rig.Kernel.UnblockIdle(w.Task)));
        Assert.Equal(Errno.EAGAIN, w.Call(rig.Kernel.IdleWait));
        untouched.AssertUnchanged();
        var serverWait = rig.Run(server, w, rig.BeginSysExit(server, w), "worker run after its own unblock");

        // Running: no offer to make, nothing to unblock.
        Assert.Equal(Errno.EINVAL, w.Call(rig.Kernel.OfferIdle));
        Assert.Equal(Errno.EINVAL, rig.OnFreshThread(() => rig.Kernel.UnblockIdle(w.Task)));
        rig.AssertRunningFor(server, w);
        rig.Finish(w, server, serverWait);

        // Not a worker, or not a task at all.
        Assert.Equal(Errno.EINVAL, server.Call(rig.Kernel.OfferIdle));
        Assert.Equal(Errno.EINVAL, server.Call(rig.Kernel.IdleWait));
        Assert.Equal(Errno.EINVAL, rig.OnFreshThread(rig.Kernel.OfferIdle));
        Assert.Equal(Errno.ESRCH, rig.OnFreshThread(() => rig.Kernel.UnblockIdle(server.Task)));
        var stranger = rig.NewParty("unregistered");
        Assert.Equal(Errno.ESRCH, rig.OnFreshThread(() => rig.Kernel.UnblockIdle(stranger.Task)));
        rig.Retire(stranger);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void An_offered_worker_may_still_end_its_region_itself_and_a_late_unblock_then_fails(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var w = rig.BlockedWorker(server);
        Assert.Equal(Errno.Ok, w.Call(rig.Kernel.OfferIdle));

        var serverWait = rig.Run(server, w, rig.BeginSysExit(server, w), "offered worker run after its own unblock");
        Assert.Equal(Errno.EINVAL, rig.OnFreshThread(() => rig.Kernel.UnblockIdle(w.Task)));
        rig.AssertRunningFor(server, w);
        rig.Finish(w, server, serverWait);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void An_unblock_that_finds_no_server_removes_the_sleeping_worker(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var (w, idle) = OfferedAndWaiting(rig, server);

        // Whether the worker is parked yet or not: the word goes to NONE before the wake, so the wait ends either way.
        Volatile.Write(ref w.Task->ServerTid, (uint)Rig.NoSuchTid);
        Assert.Equal(Errno.ESRCH, rig.OnFreshThread(() => rig.Kernel.UnblockIdle(w.Task)));
        Assert.Equal(Errno.ESRCH, w.Result(idle, "idle wait called off"));
        AssertRemoved(rig, server, w, "server_tid");
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void An_unblock_that_finds_the_word_scribbled_removes_the_sleeping_worker(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var (w, idle) = OfferedAndWaiting(rig, server);

        // User code makes the sleeping worker's word RUNNABLE (it is on no list): the unblock cannot take BLOCKED.
        Volatile.Write(ref w.Task->State, (uint)TaskState.Runnable);
        Assert.Equal(Errno.EINVAL, rig.OnFreshThread(() => rig.Kernel.UnblockIdle(w.Task)));
        Assert.Equal(Errno.EINVAL, w.Result(idle, "idle wait called off"));
        AssertRemoved(rig, server, w, "state");
    }

    /// <summary>A worker that ran for <paramref name="server"/>, blocked, offered itself (asserted) and is in its idle wait (pending).</summary>
    private static (Party Worker, Task<Errno> IdleWait) OfferedAndWaiting(Rig rig, Party server)
    {
        var w = rig.BlockedWorker(server);
        Assert.Equal(Errno.Ok, w.Call(rig.Kernel.OfferIdle));
        return (w, w.Post(rig.Kernel.IdleWait));
    }

    private static void AssertRemoved(Rig rig, Party server, Party w, string reason)
    {
        Assert.False(w.IsRegisteredThread);
        Assert.Contains(reason, w.Call(() => UmcgKernel.LastKillReason), StringComparison.Ordinal);
        Assert.Equal(0ul, server.ListHead);
        Assert.Equal(TaskState.Running, server.State);
        rig.Retire(w);
        rig.AssertServerUsable(server);
    }
}
