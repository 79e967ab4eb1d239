using Umcg.Kernel.Parking;

namespace Umcg.Tests.Kernel;

/// <summary>
/// The typed protocol words of the kernel half (a server's running slot and its record) and the always-on checks
/// of the kernel half's own invariants: a value only Umcg builds that is out of range, or an edge of the state
/// machine no path takes, is refused as a bug (<see cref="ProtocolBugException"/>), in Release too.
/// </summary>
public sealed class ProtocolWordTests
{
    [Fact]
    public void A_running_slot_puts_the_tid_and_the_running_bit_together_and_takes_them_apart()
    {
        var running = RunningSlot.Running(1234);
        Assert.Equal(1234u | UmcgConstants.TidRunning, running.Raw);
        Assert.Equal(1234, running.Tid);
        Assert.True(running.IsRunning);
        Assert.False(running.IsPick);
        Assert.True(running.IsRunningTid(1234));
        Assert.False(running.IsRunningTid(1235));

        var pick = RunningSlot.Pick(1234);
        Assert.Equal(1234u, pick.Raw);
        Assert.True(pick.IsPick);
        Assert.False(pick.IsRunning);

        Assert.True(RunningSlot.Empty.IsEmpty);
        Assert.False(RunningSlot.Empty.IsPick);
        Assert.Equal("-", RunningSlot.Empty.ToString());
        Assert.Equal("1234|RUNNING", running.ToString());

        // A value read from next_tid is taken as written: bit 30 is no part of the TID, but it is kept.
        var scribbled = RunningSlot.FromRaw(0x4000_0000u | 7);
        Assert.Equal(7, scribbled.Tid);
        Assert.True(scribbled.IsPick);
        Assert.Equal(0x4000_0007u, scribbled.Raw);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData((int)UmcgConstants.TidMask + 1)]
    public void A_running_slot_for_a_tid_out_of_range_is_a_bug(int tid)
    {
        Assert.Throws<ProtocolBugException>(() => RunningSlot.Running(tid));
        Assert.Throws<ProtocolBugException>(() => RunningSlot.Pick(tid));
    }

    [Theory]
    [InlineData(0)]
    [InlineData((int)UmcgConstants.TidMask + 1)]
    public void A_server_record_for_a_tid_out_of_range_is_a_bug(int tid)
    {
        var slot = new ServerSlot();
        Assert.Throws<ProtocolBugException>(() => slot.TryStart(tid));
        Assert.Equal(ServerSlot.SlotKind.Empty, slot.Kind);
    }

    [Fact]
    public void A_server_record_moves_only_to_another_worker()
    {
        var slot = new ServerSlot();
        Assert.True(slot.TryStart(10));
        Assert.Throws<ProtocolBugException>(() => slot.TryMove(10, 10));
        Assert.True(slot.TryMove(10, 11));
        Assert.True(slot.Holds(11));
        Assert.False(slot.TryRelease(10));
        Assert.True(slot.TryRelease(11));
        Assert.Equal(ServerSlot.SlotKind.Empty, slot.Kind);
    }

    public static TheoryData<TaskState, TaskState> KernelEdges => new()
    {
        { TaskState.Running, TaskState.None },
        { TaskState.Running, TaskState.Blocked },
        { TaskState.Running, TaskState.Runnable },
        { TaskState.Blocked, TaskState.Runnable },
        { TaskState.Runnable, TaskState.Running },
        { TaskState.Runnable, TaskState.Runnable },
        { TaskState.Runnable, TaskState.None },
    };

    [Fact]
    public void The_kernel_half_takes_exactly_the_edges_of_its_state_machine()
    {
        var edges = KernelEdges.Select(row => ((TaskState)row[0], (TaskState)row[1])).ToHashSet();
        for (uint from = 0; from <= 5; from++)
        {
            for (uint to = 0; to <= 5; to++)
            {
                bool expected = edges.Contains(((TaskState)from, (TaskState)to));
                Assert.True(expected == UmcgKernel.IsKernelEdge((TaskState)from, (TaskState)to), $"{(TaskState)from} -> {(TaskState)to}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(KernelEdges))]
    public unsafe void UpdateState_takes_an_edge_of_the_state_machine(TaskState from, TaskState to)
    {
        using var kernel = new UmcgKernel(MonitorParker.Instance);
        using var block = TaskBlock.Allocate();
        block.Task->State = (uint)from | (uint)TaskFlags.CondWait | 0x5_0000u;

        Assert.Equal(Errno.Ok, kernel.UpdateStateForTests(block, isWorker: true, from, to));

        // The user bits are kept, TF_COND_WAIT is cleared.
        Assert.Equal((uint)to | 0x5_0000u, block.Task->State);
    }

    [Theory]
    [InlineData(TaskState.Blocked, TaskState.Running)]
    [InlineData(TaskState.None, TaskState.Running)]
    [InlineData(TaskState.Runnable, TaskState.Blocked)]
    [InlineData(TaskState.Blocked, TaskState.Blocked)]
    [InlineData(TaskState.Running, TaskState.Running)]
    [InlineData(TaskState.Running, (TaskState)7)]
    public unsafe void UpdateState_refuses_an_edge_no_path_takes_as_a_bug_and_leaves_the_word(TaskState from, TaskState to)
    {
        using var kernel = new UmcgKernel(MonitorParker.Instance);
        using var block = TaskBlock.Allocate();
        block.Task->State = (uint)from;

        Assert.Throws<ProtocolBugException>(() => kernel.UpdateStateForTests(block, isWorker: true, from, to));
        Assert.Equal((uint)from, block.Task->State);
    }

    [Fact]
    public unsafe void Only_a_worker_blocks()
    {
        using var kernel = new UmcgKernel(MonitorParker.Instance);
        using var block = TaskBlock.Allocate();
        block.Task->State = (uint)TaskState.Running;

        Assert.Throws<ProtocolBugException>(() => kernel.UpdateStateForTests(block, isWorker: false, TaskState.Running, TaskState.Blocked));
        Assert.Equal((uint)TaskState.Running, block.Task->State);
    }

    [Fact]
    public unsafe void A_state_user_code_wrote_is_still_an_errno_not_a_bug()
    {
        using var kernel = new UmcgKernel(MonitorParker.Instance);
        using var block = TaskBlock.Allocate();
        block.Task->State = 0xff; // no TaskState at all

        Assert.Equal(Errno.EAGAIN, kernel.UpdateStateForTests(block, isWorker: true, TaskState.Running, TaskState.Blocked));
    }
}
