using Umcg.Abi;

namespace Umcg.Kernel;

/// <summary>
/// The kernel half's record of one registered task (the emulation's <c>task_struct</c> fields for UMCG).
/// Everything here is written by the kernel half only; user code sees the task through its
/// <see cref="UmcgTask"/> block.
/// </summary>
internal sealed unsafe class KernelTask
{
    public KernelTask(UmcgKernel kernel, int tid, TaskBlock owner, ClockId clock, bool isWorker, Thread thread)
    {
        Kernel = kernel;
        Tid = tid;
        Owner = owner;
        Block = owner.Task;
        Clock = clock;
        IsWorker = isWorker;
        Thread = thread;
    }

    public UmcgKernel Kernel { get; }

    public int Tid { get; }

    /// <summary>The block this task registered. The kernel half only ever dereferences blocks reached through a record.</summary>
    public UmcgTask* Block { get; }

    public TaskBlock Owner { get; }

    public ClockId Clock { get; }

    public bool IsWorker { get; }

    /// <summary>The managed thread, so that the exit watcher can tell a thread that ended without unregistering.</summary>
    public Thread Thread { get; }

    /// <summary>A server: the one CPU its affinity allows, or -1. A worker: the CPU it last pinned itself to, or -1.</summary>
    public int Cpu { get; set; } = -1;

    /// <summary>Set once the record left the table (unregistered, reaped or killed); never cleared.</summary>
    public bool Gone => Volatile.Read(ref _gone) != 0;

    private int _gone;

    /// <summary>Marks the record gone; true only for the one caller that did (so it is forgotten exactly once).</summary>
    public bool MarkGone() => Interlocked.Exchange(ref _gone, 1) == 0;

    /// <summary>Why the kernel half removed a task that broke the protocol (null otherwise).</summary>
    public string? KillReason { get; set; }

    /// <summary>
    /// 1 while the worker's block is on its server's runnable list (set by the push, cleared when
    /// <see cref="RunnableList.Drain"/> takes the entry off), else 0. A worker woken directly through a
    /// next_tid still has its entry on the list; pushing it a second time would overwrite its link and cut off
    /// every entry behind it, so a worker already on the list is not pushed again.
    /// </summary>
    public int Queued;

    /// <summary>How many times this task was kicked (diagnostics).</summary>
    public long Kicks;

    public uint* StateWord => &Block->State;

    public uint* NextTidWord => &Block->NextTid;

    public TaskState State => (TaskState)(Volatile.Read(ref Block->State) & UmcgConstants.StateMask);

    public override string ToString() => $"{(IsWorker ? "worker" : "server")} {Tid}";
}
