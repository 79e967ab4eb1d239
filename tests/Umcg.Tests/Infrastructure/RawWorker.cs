using System.Collections.Concurrent;
using Umcg.Abi;
using Umcg.Kernel;

namespace Umcg.Tests.Infrastructure;

/// <summary>What a worker body can do on the raw API.</summary>
public sealed unsafe class RawWorkerContext
{
    internal RawWorkerContext(UmcgKernel kernel, UmcgTask* task, int tid)
    {
        Kernel = kernel;
        Task = task;
        Tid = tid;
    }

    public UmcgKernel Kernel { get; }

    public UmcgTask* Task { get; }

    public int Tid { get; }

    /// <summary>Back to the server: RUNNABLE|COND_WAIT, Wait.</summary>
    public void Yield() => SwitchTo(0);

    /// <summary>Straight to another worker of the same server through next_tid.</summary>
    public void SwitchTo(int tid)
    {
        Volatile.Write(ref Task->NextTid, (uint)tid);
        Assert.True(StateWord.PrepareWait(Task), "worker was not RUNNING before Wait");
        Check(Kernel.Wait(0, 0), "worker wait");
    }

    /// <summary>A blocking region around <paramref name="blocking"/>.</summary>
    public void Blocking(Action blocking)
    {
        Check(Kernel.SysEnter(), "sys_enter");
        try
        {
            blocking();
        }
        finally
        {
            Check(Kernel.SysExit(), "sys_exit");
        }
    }

    public void Safepoint() => Check(Kernel.NotifyResume(), "notify_resume");

    public static void Check(Errno r, string what)
    {
        if (r != Errno.Ok)
        {
            throw new InvalidOperationException($"{what}: {r}");
        }
    }
}

/// <summary>Starts worker threads on the raw API: register (which returns once a server runs it), body, unregister.</summary>
public static unsafe class RawWorker
{
    public static Thread Start(
        UmcgKernel kernel, int serverTid, Action<RawWorkerContext> body, ConcurrentQueue<Exception> errors,
        string name = "raw worker", bool unregister = true)
    {
        var thread = new Thread(() =>
        {
            var block = TaskBlock.Allocate();
            try
            {
                var task = block.Task;
                task->ServerTid = (uint)serverTid;
                task->State = (uint)TaskState.Blocked;
                RawWorkerContext.Check(kernel.Ctl(CtlFlags.Register | CtlFlags.Worker, task, ClockId.Monotonic), "worker register");
                var ctx = new RawWorkerContext(kernel, task, UmcgKernel.CurrentTid);
                try
                {
                    body(ctx);
                }
                finally
                {
                    if (unregister && kernel.IsRegisteredThread)
                    {
                        RawWorkerContext.Check(kernel.Ctl(CtlFlags.Unregister | CtlFlags.Worker, task, ClockId.Monotonic), "worker unregister");
                    }
                }
            }
            catch (Exception e)
            {
                errors.Enqueue(e);
                if (kernel.IsRegisteredThread)
                {
                    // Leave no server waiting on us.
                    kernel.Ctl(CtlFlags.Unregister | CtlFlags.Worker, block.Task, ClockId.Monotonic);
                }
            }
            finally
            {
                // A thread that ends still registered (unregister: false) must not free its block: the kernel
                // half references it until the task is reaped. Freeing it would throw on this thread and end
                // the test process; the block is left to the reaper and leaks.
                if (!block.IsRegistered)
                {
                    block.Dispose();
                }
            }
        })
        { IsBackground = true, Name = name };
        thread.Start();
        return thread;
    }
}
