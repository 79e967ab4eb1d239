using Umcg.Abi;
using Umcg.Kernel.Native;
using Umcg.Kernel.Parking;

namespace Umcg.Kernel;

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
/// <see cref="UmcgConstants.TidRunning"/>. That slot is set by the server's Wait, moved by a worker's
/// switch, and cleared when the worker stops running; so at most one worker per server runs user code.</para>
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
