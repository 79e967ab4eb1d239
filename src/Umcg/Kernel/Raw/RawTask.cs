using Umcg.Abi;

namespace Umcg.Kernel.Raw;

/// <summary>
/// The calling thread's control block as a server or a worker of the kernel half, driven through the raw
/// kernel-half API: register, give up the CPU, unregister, free. The tests, the benchmarks and the CLI's demo
/// and ping-pongs build their servers and workers from it; the scheduler has its own, fuller loop
/// (<c>Scheduling/Server.Loop.cs</c>). The server's side (one pass of the canonical loop) is in
/// <c>RawTask.Server.cs</c>.
/// </summary>
/// <remarks>
/// Made, registered and unregistered on one thread: the kernel half binds a registration to the thread that made
/// it. A server's run queue may be drained from other threads under the caller's lock.
/// A failed kernel-half call throws <see cref="InvalidOperationException"/> naming the call and its errno; this
/// kit serves code that reports failures, not the library's own layers (which return <see cref="Errno"/>).
/// </remarks>
internal sealed unsafe partial class RawTask : IDisposable
{
    private readonly TaskBlock _block;
    private readonly CtlFlags _role;

    private RawTask(UmcgKernel kernel, CtlFlags role, uint serverTid, TaskState initial)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        Kernel = kernel;
        Tid = UmcgKernel.CurrentTid;
        _role = role;
        _block = TaskBlock.Allocate();
        Task->ServerTid = serverTid == 0 ? (uint)Tid : serverTid;
        Task->State = (uint)initial;
    }

    /// <summary>The kernel half this task registers with.</summary>
    public UmcgKernel Kernel { get; }

    /// <summary>The control block (the UMCG ABI's struct umcg_task).</summary>
    public UmcgTask* Task => _block.Task;

    /// <summary>The thread's TID.</summary>
    public int Tid { get; }

    /// <summary>Whether the kernel half still holds the block (then it must not be freed).</summary>
    public bool IsRegistered => _block.IsRegistered;

    /// <summary>A server's block for the calling thread, RUNNING, not yet registered.</summary>
    public static RawTask ForServer(UmcgKernel kernel) => new(kernel, CtlFlags.Register, 0, TaskState.Running);

    /// <summary>A worker's block for the calling thread, BLOCKED and bound to <paramref name="serverTid"/>, not yet registered.</summary>
    public static RawTask ForWorker(UmcgKernel kernel, int serverTid) =>
        new(kernel, CtlFlags.Register | CtlFlags.Worker, (uint)serverTid, TaskState.Blocked);

    /// <summary>Registers; a worker's registration returns once a server has run it.</summary>
    public Errno Register() => Kernel.Ctl(_role, Task, ClockId.Monotonic);

    /// <summary>Unregisters (a worker's unregistration releases its server's slot and wakes the server).</summary>
    public Errno Unregister() => Kernel.Ctl((_role & ~CtlFlags.Register) | CtlFlags.Unregister, Task, ClockId.Monotonic);

    /// <summary>
    /// Gives up the CPU as a worker: straight to <paramref name="nextTid"/> (a direct switch through next_tid),
    /// or back to the server when 0. Returns when a server runs this worker again.
    /// </summary>
    /// <exception cref="InvalidOperationException">The worker was not RUNNING.</exception>
    public Errno GiveUp(int nextTid)
    {
        Volatile.Write(ref Task->NextTid, (uint)nextTid);
        if (!StateWord.PrepareWait(Task))
        {
            throw new InvalidOperationException($"task {Tid} was {StateWord.StateOf(Task)}, not RUNNING, before Wait");
        }

        return Kernel.Wait(0, 0);
    }

    /// <summary>Throws unless <paramref name="r"/> is Ok.</summary>
    /// <exception cref="InvalidOperationException"><paramref name="r"/> is an error.</exception>
    public static void Check(Errno r, string what)
    {
        if (r != Errno.Ok)
        {
            throw new InvalidOperationException($"{what}: {r}");
        }
    }

    /// <summary>On a failure path: unregisters a worker the kernel half still holds, so that no server waits on it (an unregistration wakes it).</summary>
    public void LeaveNoServerWaiting()
    {
        if (_role.HasFlag(CtlFlags.Worker) && Kernel.IsRegisteredThread)
        {
            Unregister();
        }
    }

    /// <summary>
    /// Frees the block unless the kernel half still holds it: a block freed while registered would throw on
    /// this thread, so it is left to the reaper and leaks.
    /// </summary>
    public void Dispose()
    {
        if (!_block.IsRegistered)
        {
            _block.Dispose();
        }
    }
}
