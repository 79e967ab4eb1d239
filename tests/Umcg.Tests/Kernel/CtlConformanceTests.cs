namespace Umcg.Tests.Kernel;

/// <summary>
/// Conformance of Ctl's error paths: each asserts the exact errno and that nothing else changed (the block's
/// bytes, the task table, the thread's registration), and that the tasks involved still work afterwards.
/// </summary>
public sealed unsafe class CtlConformanceTests
{
    private const CtlFlags RegisterWorker = CtlFlags.Register | CtlFlags.Worker;

    /// <summary>A register attempt with the party's own block that must fail with <paramref name="expected"/> and leave everything as it was.</summary>
    private static void AssertRegisterRefused(Rig rig, Party p, CtlFlags flags, Errno expected, ClockId clock = ClockId.Monotonic) =>
        AssertRegisterRefused(rig, p, flags, p.Task, clock, expected);

    /// <summary>A register attempt that must fail with <paramref name="expected"/> and leave everything as it was.</summary>
    private static void AssertRegisterRefused(Rig rig, Party p, CtlFlags flags, UmcgTask* block, ClockId clock, Errno expected)
    {
        byte[] before = new ReadOnlySpan<byte>(block, UmcgConstants.TaskSize).ToArray();
        int count = rig.Kernel.TaskCount;
        Assert.Equal(expected, p.Ctl(flags, block, clock));
        Assert.Equal(before, new ReadOnlySpan<byte>(block, UmcgConstants.TaskSize).ToArray());
        Assert.Equal(count, rig.Kernel.TaskCount);
        Assert.Equal(0, rig.Kernel.TidOfBlock((ulong)block));
        Assert.False(p.IsRegisteredThread);
    }

    /// <summary>
    /// The end of a test in which a plain thread's registrations were refused: the thread is not registered,
    /// nothing was queued on <paramref name="server"/>, and the server still works. Then both end.
    /// </summary>
    private static void AssertRefusalLeftTheServerAlone(Rig rig, Party server, Party p)
    {
        Assert.False(p.IsRegisteredThread);
        Assert.Equal(0ul, server.ListHead);
        rig.AssertServerUsable(server);
        rig.Stop(server);
        rig.Retire(p);
    }

    /// <summary>An unregister that must fail with <paramref name="expected"/>, leaving the party's block as it was and the party registered.</summary>
    private static void AssertUnregisterRefused(Party p, Errno expected, CtlFlags extra = CtlFlags.None)
    {
        var untouched = BlockSnapshot.Of(p);
        Assert.Equal(expected, p.Unregister(extra));
        untouched.AssertUnchanged();
        Assert.True(p.IsRegisteredThread);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Register_with_a_misaligned_block_is_EINVAL(string parker)
    {
        using var rig = new Rig(parker);
        var p = rig.NewServerParty();
        var untouched = BlockSnapshot.Of(p);
        foreach (int offset in new[] { 1, 8, 32, 63 })
        {
            var misaligned = (UmcgTask*)((byte*)p.Task + offset);
            Assert.Equal(Errno.EINVAL, p.Ctl(CtlFlags.Register, misaligned));
            Assert.Equal(Errno.EINVAL, p.Ctl(RegisterWorker, misaligned));
            Assert.Equal(Errno.EINVAL, p.Ctl(CtlFlags.Unregister, misaligned));
        }

        untouched.AssertUnchanged();
        Assert.Equal(0, rig.Kernel.TaskCount);
        Assert.False(p.Block.IsRegistered);
        Assert.False(p.IsRegisteredThread);

        // The same thread and block register normally afterwards.
        Assert.Equal(Errno.Ok, p.Register());
        rig.AssertServerUsable(p);
        rig.Stop(p);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Register_with_unknown_flags_is_EINVAL(string parker)
    {
        using var rig = new Rig(parker);
        var p = rig.NewServerParty();
        foreach (uint bad in new uint[] { 0x4, 0x8, 0x100, 0x2_0000, 0x8000_0000 })
        {
            AssertRegisterRefused(rig, p, CtlFlags.Register | (CtlFlags)bad, Errno.EINVAL);
            AssertRegisterRefused(rig, p, RegisterWorker | (CtlFlags)bad, Errno.EINVAL);
            AssertRegisterRefused(rig, p, (CtlFlags)bad, Errno.EINVAL);
        }

        Assert.Equal(Errno.Ok, p.Register());

        // A registered task's unregister with an unknown flag is refused too, and it stays registered.
        AssertUnregisterRefused(p, Errno.EINVAL, (CtlFlags)0x4);
        rig.AssertServerUsable(p);
        rig.Stop(p);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Register_and_Unregister_together_is_EINVAL(string parker)
    {
        using var rig = new Rig(parker);
        var p = rig.NewServerParty();
        AssertRegisterRefused(rig, p, CtlFlags.Register | CtlFlags.Unregister, Errno.EINVAL);
        AssertRegisterRefused(rig, p, CtlFlags.Register | CtlFlags.Unregister | CtlFlags.Worker, Errno.EINVAL);

        // From a registered task: refused, and the task stays registered and RUNNING.
        Assert.Equal(Errno.Ok, p.Register());
        var untouched = BlockSnapshot.Of(p);
        Assert.Equal(Errno.EINVAL, p.Ctl(CtlFlags.Register | CtlFlags.Unregister, p.Task));
        untouched.AssertUnchanged();
        Assert.Equal(1, rig.Kernel.TaskCount);
        Assert.True(p.IsRegisteredThread);
        rig.AssertServerUsable(p);
        rig.Stop(p);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Neither_Register_nor_Unregister_is_EINVAL(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.NewServerParty();
        AssertRegisterRefused(rig, server, CtlFlags.None, Errno.EINVAL);
        AssertRegisterRefused(rig, server, CtlFlags.Worker, Errno.EINVAL);
        Assert.Equal(Errno.Ok, server.Register());
        var w = rig.NewWorkerParty(server.Tid);
        AssertRegisterRefused(rig, w, CtlFlags.Worker, Errno.EINVAL);
        Assert.Equal(0ul, server.ListHead);
        rig.AssertServerUsable(server);
        rig.Stop(server);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Register_with_an_unknown_clock_is_EINVAL(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.NewServerParty();
        int[] unknownClocks = [-1, 2, 3, 4, 5, 6, 8, 9, 10, 12, 100, int.MaxValue];
        foreach (int clock in unknownClocks)
        {
            AssertRegisterRefused(rig, server, CtlFlags.Register, Errno.EINVAL, (ClockId)clock);
        }

        Assert.Equal(Errno.Ok, server.Register());
        var w = rig.NewWorkerParty(server.Tid);
        foreach (int clock in unknownClocks)
        {
            AssertRegisterRefused(rig, w, RegisterWorker, Errno.EINVAL, (ClockId)clock);
        }

        Assert.Equal(0ul, server.ListHead);
        rig.AssertServerUsable(server);
        rig.Stop(server);
    }

    [Theory]
    [MemberData(nameof(Rig.BothParkersEachClock), MemberType = typeof(Rig))]
    public void Register_accepts_each_valid_clock(string parker, ClockId clock)
    {
        using var rig = new Rig(parker);
        var server = rig.Server(clock);

        // The worker's registration went BLOCKED -> RUNNABLE: runnable_ts is on its registered clock.
        var (w, serverWait) = rig.RunningWorkerStampedOn(server, clock);
        Assert.Equal(2, rig.Kernel.TaskCount);
        rig.Finish(w, server, serverWait);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Register_with_a_null_block_is_EINVAL(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var p = rig.NewParty("plain");
        Assert.Equal(Errno.EINVAL, p.Ctl(CtlFlags.Register, null));
        Assert.Equal(Errno.EINVAL, p.Ctl(RegisterWorker, null));
        Assert.Equal(1, rig.Kernel.TaskCount);
        AssertRefusalLeftTheServerAlone(rig, server, p);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Registering_twice_is_EINVAL(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var untouched = BlockSnapshot.Of(server);

        // Again with the same block, as a server or a worker.
        Assert.Equal(Errno.EINVAL, server.Register());
        Assert.Equal(Errno.EINVAL, server.Register(CtlFlags.Worker));

        // Again with a second, valid-looking block.
        using var second = TaskBlock.Allocate();
        second.Task->ServerTid = (uint)server.Tid;
        second.Task->State = (uint)TaskState.Running;
        Assert.Equal(Errno.EINVAL, server.Ctl(CtlFlags.Register, second.Task));

        // Again, with another kernel half: a thread is one task at a time.
        var other = Parkers.NewKernel(parker);
        Assert.Equal(Errno.EINVAL, server.Call(() => other.Ctl(CtlFlags.Register, second.Task, ClockId.Monotonic)));
        Assert.Equal(0, other.TaskCount);

        untouched.AssertUnchanged();
        Assert.False(second.IsRegistered);
        Assert.Equal(1, rig.Kernel.TaskCount);
        Assert.Equal(server.Tid, rig.Kernel.TidOfBlock(server.Block.Address));
        rig.AssertServerUsable(server);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Register_with_a_disposed_block_is_EFAULT(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var p = rig.NewParty("plain");
        var freed = TaskBlock.Allocate();
        var address = freed.Task;
        freed.Dispose();
        Assert.False(TaskBlock.TryResolve(address, out _));

        // The kernel half must refuse the address without reading it: it is freed memory.
        Assert.Equal(Errno.EFAULT, p.Ctl(CtlFlags.Register, address));
        Assert.Equal(Errno.EFAULT, p.Ctl(RegisterWorker, address));
        Assert.Equal(1, rig.Kernel.TaskCount);
        Assert.Equal(0, rig.Kernel.TidOfBlock((ulong)address));
        AssertRefusalLeftTheServerAlone(rig, server, p);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Register_with_foreign_native_memory_is_EFAULT(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var p = rig.NewParty("plain");
        using var foreign = new ForeignMemory();

        // Aligned, laid out exactly as a valid server and a valid worker would be, but not a TaskBlock.
        var asServer = foreign.Slot(1);
        asServer->ServerTid = (uint)p.Tid;
        asServer->State = (uint)TaskState.Running;
        var asWorker = foreign.Slot(2);
        asWorker->ServerTid = (uint)server.Tid;
        asWorker->State = (uint)TaskState.Blocked;

        AssertRegisterRefused(rig, p, CtlFlags.Register, asServer, ClockId.Monotonic, Errno.EFAULT);
        AssertRegisterRefused(rig, p, RegisterWorker, asWorker, ClockId.Monotonic, Errno.EFAULT);
        AssertRefusalLeftTheServerAlone(rig, server, p);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Register_with_a_block_registered_by_another_thread_is_EINVAL(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var (w, serverWait) = rig.RunningWorker(server);
        var p = rig.NewParty("plain");
        var untouched = BlockSnapshot.Of(server, w);

        // Another thread tries to take over the server's and the worker's blocks, with this and another kernel half.
        var other = Parkers.NewKernel(parker);
        foreach (var kernel in new[] { rig.Kernel, other })
        {
            foreach (var block in new[] { server.Block, w.Block })
            {
                Assert.Equal(Errno.EINVAL, p.Call(() => kernel.Ctl(CtlFlags.Register, block.Task, ClockId.Monotonic)));
                Assert.Equal(Errno.EINVAL, p.Call(() => kernel.Ctl(RegisterWorker, block.Task, ClockId.Monotonic)));
            }
        }

        untouched.AssertUnchanged();
        Assert.Equal(2, rig.Kernel.TaskCount);
        Assert.Equal(0, other.TaskCount);
        Assert.Equal(server.Tid, rig.Kernel.TidOfBlock(server.Block.Address));
        Assert.Equal(w.Tid, rig.Kernel.TidOfBlock(w.Block.Address));
        Assert.False(p.IsRegisteredThread);

        rig.Finish(w, server, serverWait);
        rig.AssertServerUsable(server);
        rig.Stop(server);
        rig.Retire(p);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Register_with_nonzero_next_tid_or_reserved_fields_is_EINVAL(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var fields = new (string Name, Action<Party> Scribble)[]
        {
            ("next_tid", p => p.Task->NextTid = 1),
            ("next_tid TID_RUNNING", p => p.Task->NextTid = UmcgConstants.TidRunning),
            ("hole", p => p.Task->Hole = 1),
            ("zero[0]", p => p.Task->Zero0 = 1),
            ("zero[1]", p => p.Task->Zero1 = 1UL << 63),
            ("zero[2]", p => p.Task->Zero2 = 0x100),
        };
        foreach (var (name, scribble) in fields)
        {
            var s = rig.NewServerParty();
            scribble(s);
            AssertRegisterRefused(rig, s, CtlFlags.Register, Errno.EINVAL);
            rig.Retire(s);

            var w = rig.NewWorkerParty(server.Tid);
            scribble(w);
            AssertRegisterRefused(rig, w, RegisterWorker, Errno.EINVAL);
            Assert.True(server.ListHead == 0, $"a worker with a nonzero {name} was queued");
            rig.Retire(w);
        }

        rig.AssertServerUsable(server);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Register_worker_whose_server_tid_is_not_a_server_is_ESRCH(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var (running, serverWait) = rig.RunningWorker(server);
        var outsiders = new Outsiders(rig);

        var bogus = new (string Name, uint ServerTid)[]
        {
            ("zero", 0),
            ("a TID no thread has", (uint)Rig.NoSuchTid),
            ("a thread of this process that is not a UMCG task", (uint)outsiders.Plain.Tid),
            ("a thread of another process (init)", 1),
            ("a worker", (uint)running.Tid),
            ("a server of another kernel half", (uint)outsiders.Foreign.Tid),
            ("a server with TID_RUNNING set", (uint)server.Tid | UmcgConstants.TidRunning),
            ("a server with bit 30 set", (uint)server.Tid | 0x4000_0000),
        };
        var untouched = BlockSnapshot.Of(server, running);
        foreach (var (name, serverTid) in bogus)
        {
            var w = rig.NewWorkerParty(0);
            w.Task->ServerTid = serverTid;
            AssertRegisterRefused(rig, w, RegisterWorker, Errno.ESRCH);
            Assert.True(Volatile.Read(ref w.Task->RunnableTs) == 0, $"server_tid = {name}: the worker was stamped RUNNABLE");
            rig.Retire(w);
        }

        // Nobody was queued or woken: the server still sleeps running the same worker; the foreign server is untouched.
        untouched.AssertUnchanged();
        Assert.Equal(0ul, outsiders.Foreign.ListHead);
        Assert.False(serverWait.IsCompleted);

        rig.Finish(running, server, serverWait);
        rig.AssertServerUsable(server);
        rig.Stop(server);
        outsiders.Leave(rig);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Register_server_whose_server_tid_is_not_its_own_is_ESRCH(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var p = rig.NewServerParty();
        foreach (uint serverTid in new[] { 0u, (uint)server.Tid, (uint)p.Tid | UmcgConstants.TidRunning, 1u, (uint)Rig.NoSuchTid })
        {
            p.Task->ServerTid = serverTid;
            AssertRegisterRefused(rig, p, CtlFlags.Register, Errno.ESRCH);
        }

        p.Task->ServerTid = (uint)p.Tid;
        Assert.Equal(Errno.Ok, p.Register());
        rig.AssertServerUsable(p);
        rig.AssertServerUsable(server);
        rig.Stop(p);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Register_server_in_a_wrong_initial_state_is_EINVAL(string parker)
    {
        using var rig = new Rig(parker);
        var p = rig.NewServerParty();
        uint[] wrong =
        [
            (uint)TaskState.None,
            (uint)TaskState.Runnable,
            (uint)TaskState.Blocked,
            4,
            0xff,
            (uint)TaskState.Running | (uint)TaskFlags.Preempt,
            (uint)TaskState.Running | (uint)TaskFlags.CondWait,
            (uint)TaskState.Running | 0x8000,
            (uint)TaskState.Runnable | (uint)TaskFlags.CondWait,
        ];
        foreach (uint state in wrong)
        {
            p.Task->State = state | 0xabcd_0000;
            AssertRegisterRefused(rig, p, CtlFlags.Register, Errno.EINVAL);
        }

        // RUNNING with user bits is the right state: user bits are user space's own.
        p.Task->State = (uint)TaskState.Running | 0xabcd_0000;
        Assert.Equal(Errno.Ok, p.Register());
        Assert.Equal(0xabcdu, p.UserBits);
        rig.AssertServerUsable(p);
        rig.Stop(p);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Register_worker_in_a_wrong_initial_state_is_EINVAL(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        uint[] wrong =
        [
            (uint)TaskState.None,
            (uint)TaskState.Running,
            (uint)TaskState.Runnable,
            4,
            (uint)TaskState.Blocked | (uint)TaskFlags.Preempt,
            (uint)TaskState.Blocked | (uint)TaskFlags.CondWait,
            (uint)TaskState.Blocked | 0x1000,
        ];
        foreach (uint state in wrong)
        {
            var w = rig.NewWorkerParty(server.Tid);
            w.Task->State = state | 0x1234_0000;
            AssertRegisterRefused(rig, w, RegisterWorker, Errno.EINVAL);
            Assert.Equal(0ul, server.ListHead);
            rig.Retire(w);
        }

        rig.AssertServerUsable(server);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void User_bits_are_preserved_across_every_transition(string parker)
    {
        const ushort ServerBits = 0x5a5a;
        const ushort WorkerBits = 0xc3e1;
        using var rig = new Rig(parker);
        var server = rig.Server(userBits: ServerBits);
        Assert.Equal(ServerBits, server.UserBits);

        // Server: RUNNING -> RUNNABLE (Wait) -> RUNNING on timeout.
        Assert.Equal(Errno.ETIMEDOUT, server.Call(() =>
        {
            StateWord.PrepareWait(server.Task);
            return rig.Kernel.Wait(0, KernelClock.Now(ClockId.Monotonic) - 1);
        }));
        Assert.Equal(Word(TaskState.Running, ServerBits), server.Word);

        // Worker registration: BLOCKED -> RUNNABLE (queued) -> RUNNING.
        var (w, registration) = rig.QueuedWorker(server, userBits: WorkerBits);
        Assert.Equal(Word(TaskState.Runnable, WorkerBits), w.Word);
        var serverWait = rig.Run(server, w, registration, "registration");
        Assert.Equal(Word(TaskState.Running, WorkerBits), w.Word);
        Assert.Equal(Word(TaskState.Runnable, ServerBits), server.Word);

        // Worker yields: RUNNING -> RUNNABLE -> (server woken: RUNNABLE -> RUNNING).
        var yield = rig.BeginYield(w);
        Assert.Equal(Errno.Ok, server.Result(serverWait, "server woken by the yield"));
        Assert.Equal(Word(TaskState.Running, ServerBits), server.Word);
        Assert.Equal(Word(TaskState.Runnable, WorkerBits), w.Word);
        serverWait = rig.Run(server, w, yield, "worker run again");
        Assert.Equal(Word(TaskState.Running, WorkerBits), w.Word);

        // Blocking region: RUNNING -> BLOCKED -> RUNNABLE -> RUNNING.
        Assert.Equal(Errno.Ok, w.SysEnter());
        Assert.Equal(Word(TaskState.Blocked, WorkerBits), w.Word);
        Assert.Equal(Errno.Ok, server.Result(serverWait, "server woken by the block"));
        var exit = rig.BeginSysExit(server, w);
        Assert.Equal(Word(TaskState.Runnable, WorkerBits), w.Word);
        serverWait = rig.Run(server, w, exit, "worker run after unblocking");
        Assert.Equal(Word(TaskState.Running, WorkerBits), w.Word);

        // Preemption: RUNNING|PREEMPT -> RUNNABLE -> RUNNING.
        Assert.True(StateWord.RequestPreempt(w.Task));
        Assert.Equal(Errno.Ok, rig.Kernel.Kick(0, w.Tid));
        var safepoint = w.Post(() => rig.Kernel.NotifyResume());
        Assert.Equal(Errno.Ok, server.Result(serverWait, "server woken by the preemption"));
        Assert.Equal(Word(TaskState.Runnable, WorkerBits), w.Word);
        serverWait = rig.Run(server, w, safepoint, "worker run after preemption");
        Assert.Equal(Word(TaskState.Running, WorkerBits), w.Word);

        // Unregister: RUNNING -> NONE, for both.
        Assert.Equal(Errno.Ok, w.Unregister(CtlFlags.Worker));
        Assert.Equal(Word(TaskState.None, WorkerBits), w.Word);
        Assert.Equal(Errno.Ok, server.Result(serverWait, "server woken by the unregistering worker"));
        rig.Retire(w);
        Assert.Equal(Errno.Ok, server.Unregister());
        Assert.Equal(Word(TaskState.None, ServerBits), server.Word);
        rig.Retire(server);

        // The whole state word: the state in the low bits, the party's user bits in 16–31.
        static uint Word(TaskState state, ushort userBits) => (uint)state | ((uint)userBits << 16);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Unregister_when_not_registered_is_EINVAL(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var p = rig.NewServerParty();
        var serverUntouched = BlockSnapshot.Of(server);

        // Its own never-registered block, a null block, and the block of a registered server.
        foreach (var flags in new[] { CtlFlags.Unregister, CtlFlags.Unregister | CtlFlags.Worker })
        {
            Assert.Equal(Errno.EINVAL, p.Ctl(flags, p.Task));
            Assert.Equal(Errno.EINVAL, p.Ctl(flags, null));
            Assert.Equal(Errno.EINVAL, p.Ctl(flags, server.Task));
        }

        // Registered with another kernel half: not a task of this one.
        var other = Parkers.NewKernel(parker);
        Assert.Equal(Errno.Ok, p.Call(() => other.Ctl(CtlFlags.Register, p.Task, ClockId.Monotonic)));
        var registeredElsewhere = BlockSnapshot.Of(p);
        Assert.Equal(Errno.EINVAL, p.Unregister());
        registeredElsewhere.AssertUnchanged();
        Assert.Equal(1, other.TaskCount);
        Assert.Equal(Errno.Ok, p.Call(() => other.Ctl(CtlFlags.Unregister, p.Task, ClockId.Monotonic)));
        Assert.Equal(0, other.TaskCount);

        serverUntouched.AssertUnchanged();
        Assert.Equal(1, rig.Kernel.TaskCount);
        rig.AssertServerUsable(server);
        rig.Stop(server);
        rig.Retire(p);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Unregister_with_a_wrong_block_is_EINVAL(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var w = rig.RunningWorkerServerAwake(server);
        using var spare = TaskBlock.Allocate();
        using var foreign = new ForeignMemory();
        var untouched = BlockSnapshot.Of(server, w);
        UmcgTask*[] wrong = [null, spare.Task, foreign.Slot(1)];

        foreach (var block in wrong)
        {
            Assert.Equal(Errno.EINVAL, server.Ctl(CtlFlags.Unregister, block));
            Assert.Equal(Errno.EINVAL, w.Ctl(CtlFlags.Unregister | CtlFlags.Worker, block));
        }

        // Each other's blocks.
        Assert.Equal(Errno.EINVAL, w.Ctl(CtlFlags.Unregister | CtlFlags.Worker, server.Task));
        Assert.Equal(Errno.EINVAL, w.Ctl(CtlFlags.Unregister, server.Task));
        Assert.Equal(Errno.EINVAL, server.Ctl(CtlFlags.Unregister, w.Task));

        untouched.AssertUnchanged();
        Assert.Equal(2, rig.Kernel.TaskCount);
        Assert.True(w.IsRegisteredThread);
        Assert.False(spare.IsRegistered);

        rig.FinishWithServerAwake(w, server);
        rig.AssertServerUsable(server);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Unregister_server_with_the_Worker_flag_is_EINVAL(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        AssertUnregisterRefused(server, Errno.EINVAL, CtlFlags.Worker);
        Assert.Equal(1, rig.Kernel.TaskCount);
        rig.AssertServerUsable(server);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Unregister_when_not_RUNNING_is_EAGAIN(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server(userBits: 0x77);

        // A server that has set RUNNABLE|COND_WAIT (about to Wait) cannot leave.
        Assert.True(server.Call(() => StateWord.PrepareWait(server.Task)));
        AssertUnregisterRefused(server, Errno.EAGAIN);
        Volatile.Write(ref server.Task->State, (uint)TaskState.Running | (0x77u << 16));

        // A BLOCKED worker (inside a blocking region) cannot leave either.
        var w = rig.BlockedWorker(server);
        AssertUnregisterRefused(w, Errno.EAGAIN, CtlFlags.Worker);
        Assert.Equal(2, rig.Kernel.TaskCount);
        Assert.Equal(0ul, server.ListHead);

        // It leaves the region normally, is run again, and unregisters.
        rig.RunAndFinish(server, w, rig.BeginSysExit(server, w), "worker run after unblocking");
        rig.AssertServerUsable(server);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Unregister_server_with_a_running_worker_is_EBUSY(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();

        // The server starts the worker, then its (already passed) deadline returns it to RUNNING: it runs, and
        // so does its worker.
        var w = rig.RunningWorkerServerAwake(server);

        AssertUnregisterRefused(server, Errno.EBUSY);
        Assert.Equal(TaskState.Running, w.State);

        // Once the worker has left, the server may leave too.
        rig.FinishWithServerAwake(w, server);
        rig.Stop(server);
        Assert.Equal(0, rig.Kernel.TaskCount);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Unregister_server_whose_slot_still_names_a_worker_that_is_no_longer_running_is_EBUSY(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var w = rig.RunningWorkerServerAwake(server);

        // The instant inside a block between the worker's RUNNING → BLOCKED and its slot release (or inside a
        // direct switch, between the slot move and the target's RUNNING): the state no longer says RUNNING,
        // but the worker is about to CAS this server's slot. Frozen here by writing the state by hand.
        uint running = w.Word;
        Volatile.Write(ref w.Task->State, (running & ~UmcgConstants.StateMask) | (uint)TaskState.Blocked);
        AssertUnregisterRefused(server, Errno.EBUSY);

        // Back to RUNNING, the worker leaves, and then so may the server.
        Volatile.Write(ref w.Task->State, running);
        rig.FinishWithServerAwake(w, server);
        rig.Stop(server);
        Assert.Equal(0, rig.Kernel.TaskCount);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Unregister_worker_wakes_its_next_tid_or_else_its_server(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var (w1, w2, registration2, serverWait) = rig.FirstOfTwoQueuedWorkersRunning(server);

        // w1 leaves naming w2: w2 runs in its place, the server keeps sleeping with the slot moved to w2.
        Volatile.Write(ref w1.Task->NextTid, (uint)w2.Tid);
        Assert.Equal(Errno.Ok, w1.Unregister(CtlFlags.Worker));
        Assert.Equal(Errno.Ok, w2.Result(registration2, "w2 run by w1's handoff"));
        rig.AssertRunningFor(server, w2);
        Assert.False(serverWait.IsCompleted);
        rig.Retire(w1);

        // w2 leaves naming nobody: the server is woken with its slot cleared.
        rig.Finish(w2, server, serverWait);
        Assert.Equal(0u, server.NextTid);
        Assert.Equal(TaskState.Running, server.State);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Unregister_worker_naming_a_worker_of_another_server_wakes_its_own_server(string parker)
    {
        using var rig = new Rig(parker);
        var s1 = rig.Server();
        var s2 = rig.Server();
        var (w1, serverWait) = rig.RunningWorker(s1);
        var (w2, registration2) = rig.QueuedWorker(s2);

        // next_tid may only hand the CPU to a worker of the same server: w2 belongs to s2 and is not run.
        Volatile.Write(ref w1.Task->NextTid, (uint)w2.Tid);
        Assert.Equal(Errno.Ok, w1.Unregister(CtlFlags.Worker));
        Assert.Equal(Errno.Ok, s1.Result(serverWait, "s1 woken by its leaving worker"));
        Assert.Equal(0u, s1.NextTid);
        Assert.Equal(TaskState.Runnable, w2.State);
        Assert.False(registration2.IsCompleted);
        Assert.Equal(0u, s2.NextTid);
        rig.Retire(w1);

        // s2 runs its own worker as usual.
        rig.RunAndFinish(s2, w2, registration2, "w2 run by s2");
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Unregister_ignores_the_clock_argument(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var (w, serverWait) = rig.RunningWorker(server);
        Assert.Equal(Errno.Ok, w.Ctl(CtlFlags.Unregister | CtlFlags.Worker, w.Task, (ClockId)12345));
        Assert.Equal(Errno.Ok, server.Result(serverWait, "server woken"));
        rig.Retire(w);
        Assert.Equal(Errno.Ok, server.Ctl(CtlFlags.Unregister, server.Task, (ClockId)(-7)));
        rig.Retire(server);
        Assert.Equal(0, rig.Kernel.TaskCount);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Unregister_worker_without_the_Worker_flag_is_accepted(string parker)
    {
        using var rig = new Rig(parker);
        var server = rig.Server();
        var (w, serverWait) = rig.RunningWorker(server);
        Assert.Equal(Errno.Ok, w.Unregister());
        Assert.Equal(TaskState.None, w.State);
        Assert.Equal(Errno.Ok, server.Result(serverWait, "server woken by the unregistering worker"));
        Assert.Equal(0u, server.NextTid);
        Assert.Equal(1, rig.Kernel.TaskCount);
        rig.Retire(w);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Registering_one_block_from_two_threads_at_once_succeeds_at_most_once(string parker)
    {
        const int Rounds = 300;
        using var rig = new Rig(parker);
        var other = Parkers.NewKernel(parker);
        var p1 = rig.NewParty("racer");
        var p2 = new Party(other, "racer of another kernel");
        for (int round = 0; round < Rounds; round++)
        {
            using var block = TaskBlock.Allocate();
            block.Task->State = (uint)TaskState.Running;
            using var start = new Barrier(2);

            // Each racer names itself as the server (only one can be right), so both pass every other check.
            Errno Race(Party p, UmcgKernel k)
            {
                start.SignalAndWait();
                Interlocked.CompareExchange(ref block.Task->ServerTid, (uint)p.Tid, 0);
                return k.Ctl(CtlFlags.Register, block.Task, ClockId.Monotonic);
            }

            var r1 = p1.Post(() => Race(p1, rig.Kernel));
            var r2 = p2.Post(() => Race(p2, other));
            Errno e1 = p1.Result(r1, "racer 1");
            Errno e2 = p2.Result(r2, "racer 2");
            int ok = (e1 == Errno.Ok ? 1 : 0) + (e2 == Errno.Ok ? 1 : 0);
            Assert.True(ok <= 1, $"round {round}: both threads registered the same block");
            Assert.Equal(ok == 1, block.IsRegistered);
            if (e1 == Errno.Ok)
            {
                Assert.Equal(Errno.Ok, p1.Ctl(CtlFlags.Unregister, block.Task));
            }

            if (e2 == Errno.Ok)
            {
                Assert.Equal(Errno.Ok, p2.Ctl(CtlFlags.Unregister, block.Task));
            }

            Assert.False(block.IsRegistered);
        }

        rig.Retire(p1);
        rig.Retire(p2);
    }
}
