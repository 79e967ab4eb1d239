namespace Umcg.Tests.Kernel;

/// <summary>
/// What the background conformance tests add to <see cref="Rig"/>: the kernel half's own facts no block shows (a
/// server's record, a worker's background mark), a demotion asserted step by step, and invariant I1′ checked over a
/// server's workers.
/// </summary>
internal static unsafe class BackgroundRig
{
    /// <summary>The kernel half's record of which worker <paramref name="server"/> runs (0: none).</summary>
    public static int RecordOf(this Rig rig, Party server) => rig.TaskOf(server).Slot.Worker;

    /// <summary>Whether the kernel half marks <paramref name="worker"/> as demoted by its server (K9's mark).</summary>
    public static bool IsMarkedBackground(this Rig rig, Party worker) => Volatile.Read(ref rig.TaskOf(worker).BackgroundMark) != 0;

    /// <summary>
    /// K9 on an awake <paramref name="server"/> for the worker its record names: TF_PREEMPT set (as a give-way asks),
    /// Demote called on the server's thread; asserts the worker runs on in the background and the record and its
    /// mirror are empty.
    /// </summary>
    public static void Demote(this Rig rig, Party server, Party worker)
    {
        Assert.Equal(worker.Tid, rig.RecordOf(server));
        Assert.True(StateWord.RequestPreempt(worker.Task), "the worker was not RUNNING when asked to give way");
        Assert.Equal(Errno.Ok, server.Call(() => rig.Kernel.Demote(worker.Tid)));
        rig.AssertInBackground(server, worker, TaskFlags.Preempt | TaskFlags.Background);
        Assert.Equal(0, rig.RecordOf(server));
        Assert.Equal(0u, server.NextTid);
        Assert.Equal(TaskState.Running, server.State);
    }

    /// <summary>
    /// <paramref name="worker"/> runs in the background of <paramref name="server"/>: RUNNING with exactly
    /// <paramref name="flags"/>, marked, and named neither by the record nor by its mirror.
    /// </summary>
    public static void AssertInBackground(this Rig rig, Party server, Party worker, TaskFlags flags)
    {
        Assert.Equal(TaskState.Running, worker.State);
        Assert.Equal(flags, worker.Flags);
        Assert.True(rig.IsMarkedBackground(worker), $"{worker} carries no background mark");
        Assert.NotEqual(worker.Tid, rig.RecordOf(server));
        Assert.NotEqual((uint)worker.Tid | UmcgConstants.TidRunning, server.NextTid);
    }

    /// <summary>
    /// <paramref name="worker"/> runs in the foreground of <paramref name="server"/>: RUNNING without a flag, unmarked,
    /// the record naming it and next_tid mirroring it.
    /// </summary>
    public static void AssertInForeground(this Rig rig, Party server, Party worker)
    {
        Assert.Equal(TaskState.Running, worker.State);
        Assert.Equal(TaskFlags.None, worker.Flags);
        Assert.False(rig.IsMarkedBackground(worker), $"{worker} still carries the background mark");
        Assert.Equal(worker.Tid, rig.RecordOf(server));
        Assert.Equal((uint)worker.Tid | UmcgConstants.TidRunning, server.NextTid);
    }

    /// <summary>
    /// I1′ over <paramref name="workers"/> of <paramref name="server"/>: a worker RUNNING without TF_BACKGROUND is the
    /// one the record names; a background worker is not named; so at most one of them runs in the foreground.
    /// </summary>
    public static void AssertOneForeground(this Rig rig, Party server, params Party[] workers)
    {
        int record = rig.RecordOf(server);
        int foreground = 0;
        foreach (var w in workers.Where(w => w.State == TaskState.Running))
        {
            bool background = (w.Flags & TaskFlags.Background) != 0;
            Assert.True(background == (record != w.Tid), $"I1′: {w} is {(background ? "in the background" : "in the foreground")} but the record names {record}");
            foreground += background ? 0 : 1;
        }

        Assert.True(foreground <= 1, $"I1′: {foreground} workers run in the foreground of {server}");
    }

    /// <summary>Drains <paramref name="server"/>'s runnable list on its own thread, returning the TIDs taken off.</summary>
    public static List<int> Drain(this Rig rig, Party server) => server.Call(() =>
    {
        var drained = new List<int>();
        Assert.Equal(Errno.Ok, RunnableList.Drain(rig.Kernel, server.Task, drained));
        return drained;
    });

    /// <summary>
    /// The awake <paramref name="server"/> starts <paramref name="worker"/> and stays awake (<see cref="Rig.StartAndTimeOut"/>).
    /// A late wake from a worker that queued itself just before may end the Wait first (EAGAIN, nothing started: go
    /// again) or after the start (Ok): either way the worker runs and the server is RUNNING.
    /// </summary>
    public static void StartWithServerAwake(this Rig rig, Party server, Party worker)
    {
        var r = rig.StartAndTimeOut(server, worker.Tid);
        for (int i = 0; i < 1000 && r == Errno.EAGAIN; i++)
        {
            r = rig.StartAndTimeOut(server, worker.Tid);
        }

        Assert.True(r is Errno.ETIMEDOUT or Errno.Ok, $"the server's start of {worker}: {r}");
        Assert.Equal(TaskState.Running, server.State);
    }

    /// <summary>
    /// Asserts that a grace period ends (<see cref="BlockGrace.WaitForReaders"/>): no kernel-half path — in particular
    /// none of a worker that now sleeps waiting to run — left its read section open. A section left open would stall
    /// every later free of a control block; here it fails under the watchdog instead.
    /// </summary>
    public static void AssertNoReadSectionLeftOpen(this Rig rig, string what)
    {
        var grace = Task.Factory.StartNew(BlockGrace.WaitForReaders, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Watchdog.Wait(rig.Kernel, grace, $"a grace period, held up by a read section left open: {what}");
    }

    private static KernelTask TaskOf(this Rig rig, Party party)
    {
        Assert.True(rig.Kernel.Tasks.TryGet((uint)party.Tid, out var task), $"{party} is not a task of this kernel half");
        return task;
    }
}
