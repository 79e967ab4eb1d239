using Umcg.Kernel.Native;
using Umcg.Tests.Demotion;

namespace Umcg.Tests.Kernel;

/// <summary>
/// Conformance of what outlives a call: a worker waiting for a server that leaves, the CPU affinity a worker
/// had before it followed its server's CPU, and the exit watcher thread of a kernel half that is disposed.
/// </summary>
public sealed unsafe class LifecycleConformanceTests
{
    public static TheoryData<string, string> BothParkersEachWaiter() => ParkerCases.Each("registering", "yielded");

    [Theory]
    [MemberData(nameof(BothParkersEachWaiter))]
    public void A_worker_waiting_for_a_server_that_leaves_fails_with_ESRCH(string parker, string waiter)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        Party w;
        Task<Errno> waiting;
        if (waiter == "registering")
        {
            (w, waiting) = rig.QueuedWorker(server);
        }
        else
        {
            (w, var serverWait) = rig.RunningWorker(server);
            waiting = rig.BeginYield(w);
            Assert.Equal(Errno.Ok, server.Result(serverWait, "server woken by the yield"));
        }

        Assert.Equal(TaskState.Runnable, w.State);
        Assert.Equal(Errno.Ok, server.Unregister());

        Assert.Equal(Errno.ESRCH, w.Result(waiting, "the waiting worker's call"));
        Assert.False(w.IsRegisteredThread);
        Assert.Equal(TaskState.None, w.State);
        Assert.Contains("server went away", w.Call(() => UmcgKernel.LastKillReason), StringComparison.Ordinal);
        rig.Retire(w);
        rig.Retire(server);
        Assert.Equal(0, rig.Kernel.TaskCount);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void A_worker_gets_back_the_affinity_it_had_when_it_unregisters(string parker)
    {
        int[] all = LinuxSyscalls.GetAffinity(0);
        Assert.True(all.Length >= 1);
        int cpu = all[^1];

        using var rig = new Rig(parker);
        var server = rig.NewServerParty();
        Assert.Equal(0, server.Call(() => LinuxSyscalls.PinToCpu(0, cpu)));
        Assert.Equal(Errno.Ok, server.Register());

        // Worker threads start with the test thread's affinity, and follow the server's one CPU while they run.
        var (w, serverWait) = rig.RunningWorker(server);
        Assert.Equal([cpu], w.Call(() => LinuxSyscalls.GetAffinity(0)));

        Assert.Equal(Errno.Ok, w.Unregister(CtlFlags.Worker));
        Assert.Equal(all, w.Call(() => LinuxSyscalls.GetAffinity(0)));
        Assert.Equal(Errno.Ok, server.Result(serverWait, "server woken by the unregistering worker"));
        rig.Retire(w);
        rig.Stop(server);
    }

    [Fact]
    public void The_exit_watcher_polls_under_SCHED_BATCH_so_that_its_polls_do_not_preempt_a_running_worker()
    {
        using var rig = new Rig("futex");
        var server = rig.Server();
        rig.Until(() => rig.Kernel.ExitWatcherTidForTests != 0, "exit watcher started by the registration");
        Assert.Equal(3, ProcSched.Read(rig.Kernel.ExitWatcherTidForTests).Policy); // SCHED_BATCH
        rig.Stop(server);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Disposing_a_kernel_half_stops_its_exit_watcher_and_the_default_is_never_disposed(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        rig.Until(() => rig.Kernel.ExitWatcherRunning, "exit watcher started by the registration");
        rig.Stop(server);

        rig.Kernel.Dispose();
        Assert.False(rig.Kernel.ExitWatcherRunning);
        rig.Kernel.Dispose(); // twice is fine

        var defaultServer = TaskBlock.Allocate();
        var thread = new TaskThread(UmcgKernel.Default, "default server");
        defaultServer.Task->ServerTid = (uint)thread.Tid;
        defaultServer.Task->State = (uint)TaskState.Running;
        Assert.Equal(Errno.Ok, thread.Call(() => UmcgKernel.Default.Ctl(CtlFlags.Register, defaultServer.Task, ClockId.Monotonic)));
        UmcgKernel.Default.Dispose();
        Assert.True(UmcgKernel.Default.ExitWatcherRunning);
        Assert.Equal(Errno.Ok, thread.Call(() => UmcgKernel.Default.Ctl(CtlFlags.Unregister, defaultServer.Task, ClockId.Monotonic)));
        thread.Exit();
        defaultServer.Dispose();
    }
}
