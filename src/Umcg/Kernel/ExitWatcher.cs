using Umcg.Kernel.Native;

namespace Umcg.Kernel;

/// <summary>
/// Notices tasks whose threads ended without unregistering (the kernel's <c>umcg_handle_exit</c>) and cleans
/// them up, so that no control block stays referenced and no server waits for a worker that is gone.
/// </summary>
/// <remarks>
/// A stock kernel gives user space no thread-exit callback, so one background thread per kernel half polls
/// the registered threads' liveness. It sleeps on an event while no task is registered, so an idle process
/// pays nothing.
/// </remarks>
internal sealed class ExitWatcher
{
    private static readonly TimeSpan s_pollInterval = TimeSpan.FromMilliseconds(20);

    private readonly UmcgKernel _kernel;
    private readonly AutoResetEvent _tasksAppeared = new(false);
    private Thread? _thread;
    private int _started;
    private volatile bool _stopping;

    public ExitWatcher(UmcgKernel kernel) => _kernel = kernel;

    /// <summary>Called on every registration: starts the watcher thread the first time, wakes it if idle.</summary>
    public void Watch()
    {
        if (_stopping)
        {
            return;
        }

        if (Volatile.Read(ref _started) == 0 && Interlocked.Exchange(ref _started, 1) == 0)
        {
            var thread = new Thread(Run) { IsBackground = true, Name = "umcg exit watcher" };
            Volatile.Write(ref _thread, thread);
            thread.UnsafeStart();
        }

        _tasksAppeared.Set();
    }

    /// <summary>The watcher thread's TID once it has started (0 before): for tests.</summary>
    internal int ThreadIdForTests => Volatile.Read(ref _threadIdForTests);

    private int _threadIdForTests;

    /// <summary>Whether the watcher thread is alive.</summary>
    public bool IsRunning => Volatile.Read(ref _thread)?.IsAlive == true;

    /// <summary>Ends the watcher thread, if it ever started, and waits for it; later registrations start none.</summary>
    public void Stop()
    {
        _stopping = true;

        // Claims the start too, so that a registration racing this cannot start a thread nobody stops.
        Interlocked.Exchange(ref _started, 1);
        _tasksAppeared.Set();
        Volatile.Read(ref _thread)?.Join();
    }

    private void Run()
    {
        // Nothing it does is urgent: under SCHED_BATCH its polls wait for the running worker's next switch or the OS's
        // tick instead of preempting that worker (an involuntary switch every poll or so on a busy CPU).
        if (OperatingSystem.IsLinux())
        {
            LinuxSyscalls.SwitchFairClass(LinuxSyscalls.SchedOther, LinuxSyscalls.SchedBatch);
        }

        Volatile.Write(ref _threadIdForTests, UmcgKernel.CurrentTid);
        while (!_stopping)
        {
            if (_kernel.TaskCount == 0)
            {
                _tasksAppeared.WaitOne();
                continue;
            }

            // This is the poll interval of a background watcher, not synchronisation.
            _tasksAppeared.WaitOne(s_pollInterval);
            _kernel.ReapExited();
        }
    }
}
