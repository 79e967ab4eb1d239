using Umcg.Abi;

namespace Umcg.Kernel;

// Test hooks of the kernel half, kept apart from the protocol.
public sealed partial class UmcgKernel
{
    /// <summary>
    /// <see cref="UpdateState(KernelTask, TaskState, TaskState)"/> on a record made for the test over <paramref name="block"/>, never registered: lets a
    /// test ask for an edge no path of the kernel half takes.
    /// </summary>
    internal Errno UpdateStateForTests(TaskBlock block, bool isWorker, TaskState from, TaskState to) =>
        UpdateState(new KernelTask(this, CurrentTid, block, ClockId.Monotonic, isWorker, Thread.CurrentThread), from, to);

    /// <summary>
    /// Called on a switching worker's thread (with its TID) after the slot moved to its target and before it is
    /// pushed on the runnable list: lets a test hold it in that window.
    /// </summary>
    internal Action<int>? AfterSwitchSlotMovedForTests;

    /// <summary>
    /// Called on a blocking worker's thread (with its TID) when its block leaves the server open (K12l), after the
    /// mirror reads TID_OPEN and before the record is released: lets a test hold it in that window.
    /// </summary>
    internal Action<int>? AfterLeaveOpenMirrorForTests;

    /// <summary>
    /// Called on a server's thread (with its TID) in its Wait (K1), once it has decided whether to start the worker
    /// its next_tid picks (true if it did) and before it sleeps: tells a test that the decision is made.
    /// </summary>
    internal Action<int, bool>? ServerWaitDecidedForTests;
}
