using Umcg.Abi;
using Umcg.Kernel.Native;
using Umcg.Kernel.Parking;

namespace Umcg.Kernel;

// The kernel half of UMCG: the concepts, the invariants and the numbered steps of every call. Other files and
// docs/kernel-half.md refer to the steps by number (K1…K8) and to the invariants (I1…I7); the why of each
// field and CAS is written next to it.
//
// Concepts
//   task     a registered thread: a server (runs workers, one per CPU) or a worker. KernelTask is the kernel
//            half's own record of it (KernelTask.cs); UmcgTask its control block, which user code may write.
//   state    bits 0–7 of the block's state word (TaskState), 8–15 its flags (TF_PREEMPT, TF_COND_WAIT),
//            16–31 user space's own. A task sleeps on this word.
//   record   a server's ServerSlot: which worker it runs, written by the kernel half only (ServerSlot.cs).
//   slot     the server's next_tid read as a RunningSlot (Abi/RunningSlot.cs): a pick (tid), the record's
//            user-visible mirror (tid | TID_RUNNING), or TID_OPEN (asleep with nothing to run, open to arrivals: K12).
//   list     a server's runnable list: a lock-free LIFO of blocks through runnable_workers_ptr, plus each
//            block's queued mark (TaskBlock.QueuedOn); drained by user space (RunnableList.cs).
//
// The state machine: the only edges UpdateState takes (checked there; user space's own PrepareWait is the
// RUNNING → RUNNABLE|COND_WAIT before Wait):
//
//   RUNNING  ──K3 block──► BLOCKED ──K4 unblock──► RUNNABLE ──K6 wake──► RUNNING
//   RUNNING  ──K5 preempt──► RUNNABLE          RUNNABLE ──K1, K2: Wait clears TF_COND_WAIT──► RUNNABLE
//   RUNNING  ──K7 unregister, exit──► NONE     RUNNABLE ──K8 orphaned──► NONE
//
// Invariants
//   I1 At most one worker per server runs user code: a worker is RUNNING only while its server's record
//      names it. The record is set by K1, K10 and K12, moved by K2's switch, cleared by K3 (K12l), K2's yield, K5 and K7.
//   I2 The record changes only by a CAS from the exact value expected, so only the worker it names (or a
//      kernel path acting for it: a detector's block, the reaper, a removal) moves or clears it, and a late
//      release by a worker that was already replaced fails.
//   I3 Record before mirror on a start or a move, mirror before record on a release: no successor's mirror
//      is ever wiped, and a worker woken by K6 already finds the record naming it.
//   I4 A block is on at most one runnable list, at most once: its queued mark is claimed by CAS before the
//      push and cleared by the drain that takes it off.
//   I5 A task sleeps only on its own state word, parking with the value it re-read: a waker changes the word
//      (a CAS, a full fence) before it wakes, so no wake is lost; K6 wakes only from RUNNABLE, so never twice.
//   I6 Every producer publishes first (a list push, the record) and changes the sleeper's word second.
//   I7 Bad input from user code is an Errno (a worker that broke the protocol is removed, its server
//      released and woken); an impossible state of the kernel half's own data is a ProtocolBug.
//
// Steps (file: member)
//   K1 server Wait (Wait.cs: ServerWait): RUNNABLE|COND_WAIT → RUNNABLE; if the record is empty and the slot
//      is a pick W: record Empty → W, mirror W|TID_RUNNING, K6 on W (on failure mirror and record back);
//      then sleep until RUNNING (a worker's release, a kick, or the deadline).
//   K2 worker Wait (Wait.cs: WorkerWait): RUNNABLE|COND_WAIT → RUNNABLE; the record must name the caller.
//      With next_tid = N: record caller → N, mirror, next_tid consumed, push the caller, K6 on N. Without:
//      push the caller, release the record, wake the server. Then sleep until RUNNING (AwaitRun).
//   K3 block (Hooks.cs: BlockWorker): claim the block mark, RUNNING → BLOCKED, release the record, wake the server.
//      K3s, with next_tid = N (a RUNNABLE worker of the same server; checked before any side effect): the record
//      moves to N instead, next_tid is consumed, K6 on N, and the server sleeps on (an extension of the RFC).
//   K4 unblock (Hooks.cs: Unblock): take the block mark, BLOCKED → RUNNABLE, push, wake the server, AwaitRun.
//      K4q: no wake when the server's margin says the arrival is quiet (rank below the running worker's + margin
//      − 1; margin 0, the default, always wakes). A switch that moved the record (K2, K3s, K7) to a successor of
//      a lower rank then wakes the server if another entry is listed and the margin is not 0: that entry judged
//      itself against the worker that left (Hooks.cs: IsQuietArrival, WakeServerIfOthersListed).
//   K5 preempt (Hooks.cs: Preempt): RUNNING → RUNNABLE, push, release the record, wake the server, AwaitRun.
//   K6 wake (Transitions.cs: WakeTask): RUNNABLE → RUNNING by CAS, then unpark the sleeper.
//   K7 leave (Ctl.cs: Unregister, Exit.cs): a worker hands its record on (to next_tid, else its server); a
//      server leaves only with an empty record, and orphans the workers that wait for it.
//   K8 orphan (Transitions.cs: Orphan): a worker whose server left before running it: RUNNABLE → NONE, ESRCH.
//   K9, K10 demote and adopt (Background.cs): a worker that did not give way runs on in the background.
//   K11 idle (Idle.cs): a worker BLOCKED in its own region offers itself (mark Idle) and sleeps; another thread does
//      its K4 for it (take the mark, BLOCKED → RUNNABLE, push, K4q) without waking it; K6 wakes it once, to run.
//   K12 open server (OpenServer.cs): a server asleep with nothing to run writes next_tid = TID_OPEN; a worker that
//      becomes RUNNABLE for it (K4, K11u) claims it (record Empty → W, then the mirror TID_OPEN → W|TID_RUNNING by
//      CAS) and runs at once, instead of the push, the server's wake and K6. K12l: a block naming TID_OPEN in its own
//      next_tid frees the record into an open slot (mirror first) and wakes the server only for a listed arrival.

/// <summary>
/// The kernel half of UMCG, emulated in user space: <see cref="Ctl"/>, <see cref="Wait"/> and
/// <see cref="Kick"/> with the semantics and error codes of the UMCG RFC, and the hooks a patched kernel
/// would run on its own — <see cref="SysEnter"/>/<see cref="SysExit"/> around blocking and
/// <see cref="NotifyResume"/> at return-to-user, here an explicit safepoint.
/// </summary>
/// <remarks>
/// <para>Every call acts on the calling thread's own registration, as a system call does. Errors are
/// <see cref="Errno"/> values; nothing here throws for bad input.</para>
/// <para>The one rule the kernel half adds to the RFC (the Jan-18 <c>UMCG_TID_RUNNING</c> scheme made
/// strict): a worker is RUNNING only while its server's <c>next_tid</c> names it with
/// <see cref="UmcgConstants.TidRunning"/> (invariant I1 in the head of UmcgKernel.cs).</para>
/// </remarks>
public sealed unsafe partial class UmcgKernel : IDisposable
{
    // The thread's registration, if any (the emulation's current->umcg_task). A thread registers with one
    // kernel at a time; a call on another kernel sees no registration.
    [ThreadStatic]
    private static KernelTask? t_current;

    [ThreadStatic]
    private static int t_tid;

    private static readonly Lazy<UmcgKernel> s_default = new(() => new UmcgKernel(DefaultParker()));

    private readonly TaskTable _tasks = new();
    private readonly ExitWatcher _exitWatcher;

    /// <summary>Creates a kernel half over <paramref name="parker"/>, with its own task table.</summary>
    public UmcgKernel(IParker parker)
    {
        ArgumentNullException.ThrowIfNull(parker);
        Parker = parker;
        _exitWatcher = new ExitWatcher(this);
    }

    /// <summary>The process-wide kernel half: futex parking on Linux, the portable parker elsewhere.</summary>
    public static UmcgKernel Default => s_default.Value;

    /// <summary>How tasks sleep and are woken.</summary>
    public IParker Parker { get; }

    /// <summary>The calling thread's Linux TID (cached per thread).</summary>
    public static int CurrentTid
    {
        get
        {
            int tid = t_tid;
            if (tid == 0)
            {
                tid = OperatingSystem.IsLinux() ? LinuxSyscalls.Gettid() : Environment.CurrentManagedThreadId;
                t_tid = tid;
            }

            return tid;
        }
    }

    /// <summary>How many tasks are registered.</summary>
    public int TaskCount => _tasks.Count;

    /// <summary>The calling thread's control block if it is registered with this kernel half, else null.</summary>
    public UmcgTask* CurrentTask => Current is { } t ? t.Block : null;

    /// <summary>Whether the calling thread is a registered worker of this kernel half.</summary>
    public bool IsWorkerThread => Current is { IsWorker: true };

    /// <summary>Whether the calling thread is registered (server or worker) with this kernel half.</summary>
    public bool IsRegisteredThread => Current is not null;

    /// <summary>Why the kernel half removed the calling thread's registration for breaking the protocol, if it did.</summary>
    [field: ThreadStatic]
    public static string? LastKillReason { get; private set; }

    internal KernelTask? Current
    {
        get
        {
            var t = t_current;
            return t is not null && ReferenceEquals(t.Kernel, this) ? t : null;
        }
    }

    internal TaskTable Tasks => _tasks;

    /// <summary>Whether this kernel half's exit watcher thread is alive (test hook).</summary>
    internal bool ExitWatcherRunning => _exitWatcher.IsRunning;

    /// <summary>The exit watcher thread's TID once it has started, 0 before (test hook).</summary>
    internal int ExitWatcherTidForTests => _exitWatcher.ThreadIdForTests;

    private static IParker DefaultParker() => OperatingSystem.IsLinux() ? FutexParker.Instance : MonitorParker.Instance;

    /// <summary>The TID of the task whose control block is at <paramref name="address"/>, or 0 if none is registered there.</summary>
    public int TidOfBlock(ulong address) => _tasks.TryGetByBlock(address, out var t) ? t.Tid : 0;

    /// <summary>The control block of the registered task <paramref name="tid"/>, or null.</summary>
    public UmcgTask* BlockOf(int tid) => _tasks.TryGet((uint)tid, out var t) ? t.Block : null;

    /// <summary>A consistent-enough picture of every registered task, for watchdogs and dumps.</summary>
    public TaskSnapshot[] Snapshot()
    {
        using var section = BlockGrace.Enter();
        var tasks = _tasks.Snapshot();
        var result = new TaskSnapshot[tasks.Length];
        for (int i = 0; i < tasks.Length; i++)
        {
            result[i] = TaskSnapshot.Of(tasks[i]);
        }

        Array.Sort(result, (a, b) => a.Tid.CompareTo(b.Tid));
        return result;
    }

    /// <summary>
    /// Stops this kernel half's exit watcher thread (joined before returning). Registered tasks are left as
    /// they are; threads that exit without unregistering are no longer cleaned up by themselves
    /// (<see cref="ReapExited"/> still works). <see cref="Default"/> is shared by the whole process and is never
    /// disposed: disposing it does nothing.
    /// </summary>
    public void Dispose()
    {
        if (ReferenceEquals(this, s_default.IsValueCreated ? s_default.Value : null))
        {
            return;
        }

        _exitWatcher.Stop();
    }

    /// <summary>Every registered task, one line each: what a watchdog prints on a stall.</summary>
    public string Dump() => string.Join(Environment.NewLine, Snapshot().Select(s => s.ToString()));
}
