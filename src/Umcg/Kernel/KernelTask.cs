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

    /// <summary>
    /// A server: the one CPU its affinity allows, or -1. A worker: the CPU it was last pinned to (by itself, or by the
    /// waker that started it for a server on another CPU), or -1.
    /// </summary>
    public int Cpu
    {
        get => Volatile.Read(ref CpuField);
        set => Volatile.Write(ref CpuField, value);
    }

    /// <summary>The storage of <see cref="Cpu"/>: written by the worker's own pinning and by its waker's, never at once.</summary>
    public int CpuField = -1;

    /// <summary>Set once the record left the table (unregistered, reaped or killed); never cleared.</summary>
    public bool Gone => Volatile.Read(ref _gone) != 0;

    private int _gone;

    /// <summary>Marks the record gone; true only for the one caller that did (so it is forgotten exactly once).</summary>
    public bool MarkGone() => Interlocked.Exchange(ref _gone, 1) == 0;

    /// <summary>Why the kernel half removed a task that broke the protocol (null otherwise).</summary>
    public string? KillReason { get; set; }

    /// <summary>
    /// A server: the kernel half's own record of the worker it runs (see <see cref="ServerSlot"/>); user code
    /// sees only its mirror in next_tid. Unused for a worker.
    /// </summary>
    public ServerSlot Slot { get; } = new();

    /// <summary>
    /// A worker: who made it BLOCKED, as far as the kernel half knows (<see cref="BlockMarks"/>). The state word
    /// is user-writable; this is not, so a BLOCKED written by user code is told from one the kernel half made.
    /// Claimed by CAS from <see cref="BlockMarks.None"/> before the state CAS, cleared when the worker unblocks.
    /// </summary>
    public int BlockMark;

    /// <summary>
    /// A worker: 1 while its server has demoted it to the background (K9), as far as the kernel half knows. The
    /// state word's <see cref="Abi.TaskFlags.Background"/> is user-writable; this is not, so a flag user code wrote is
    /// told from one the kernel half set. Set by the server before its CAS adds the flag; cleared by whoever takes the
    /// flag off — the worker's own transition off RUNNING (before it is queued, so before anyone can run and demote it
    /// again) or its server's adoption (K10) — and by the server when its CAS fails.
    /// </summary>
    public int BackgroundMark;

    /// <summary>
    /// A worker: 1 once it claimed an open server (K12) — by its own unblock or its unblocker's — until the worker takes
    /// the news on its own thread (<see cref="UmcgKernel.TakeDirectStart"/>): what a server's pick would have told user
    /// space. Written before the worker can run (its own CAS, or the wake's), so its thread reads it after it resumes.
    /// </summary>
    public int StartedDirectly;

    /// <summary>
    /// Set by an unblocker that called the worker's idle offer off (K11u), before it sets the word to NONE: why the
    /// worker's wait removes it.
    /// </summary>
    public IdleCallOff? IdleCallOff { get; set; }

    /// <summary>Set (before its state word changes to NONE) when the worker's server went away before running it.</summary>
    public bool Orphaned => Volatile.Read(ref _orphaned) != 0;

    private int _orphaned;

    /// <summary>Marks the worker orphaned; true only for the first caller.</summary>
    public bool MarkOrphaned() => Interlocked.Exchange(ref _orphaned, 1) == 0;

    /// <summary>A worker's affinity before it first pinned itself to a server's CPU, restored when it leaves; null if it never pinned.</summary>
    public int[]? AffinityBeforePinning { get; set; }

    /// <summary>How many times this task was kicked (diagnostics).</summary>
    public long Kicks;

    public uint* StateWord => &Block->State;

    public uint* NextTidWord => &Block->NextTid;

    public TaskState State => (TaskState)(Volatile.Read(ref Block->State) & UmcgConstants.StateMask);

    /// <summary>The values of <see cref="BlockMark"/>.</summary>
    public static class BlockMarks
    {
        /// <summary>Not blocked by the kernel half (RUNNING, RUNNABLE, or a BLOCKED user code wrote).</summary>
        public const int None = 0;

        /// <summary>Blocked by its own <see cref="UmcgKernel.SysEnter"/>: inside a blocking region until SysExit.</summary>
        public const int InRegion = 1;

        /// <summary>Blocked on its behalf (<see cref="UmcgKernel.MarkBlocked"/>): it unblocks at its next safepoint.</summary>
        public const int ByDetector = 2;

        /// <summary>
        /// Blocked in its own region and offered to be unblocked by another thread (<see cref="UmcgKernel.OfferIdle"/>,
        /// K11): an idle worker that sleeps until someone queues it (<see cref="UmcgKernel.UnblockIdle"/>).
        /// </summary>
        public const int Idle = 3;

        /// <summary>Taken from <see cref="Idle"/> by an unblocker (K11u) that has not yet made the word RUNNABLE.</summary>
        public const int Unblocking = 4;
    }

    public override string ToString() => $"{(IsWorker ? "worker" : "server")} {Tid}";
}
