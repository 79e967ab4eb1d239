using Umcg.Kernel.Raw;

namespace Umcg.Tests.Infrastructure;

/// <summary>What a worker body can do on the raw API.</summary>
public sealed unsafe class RawWorkerContext
{
    private readonly RawTask _self;

    internal RawWorkerContext(RawTask self) => _self = self;

    public UmcgKernel Kernel => _self.Kernel;

    public UmcgTask* Task => _self.Task;

    public int Tid => _self.Tid;

    /// <summary>Back to the server: RUNNABLE|COND_WAIT, Wait.</summary>
    public void Yield() => SwitchTo(0);

    /// <summary>Straight to another worker of the same server through next_tid.</summary>
    public void SwitchTo(int tid) => Check(_self.GiveUp(tid), "worker wait");

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
            using var self = RawTask.ForWorker(kernel, serverTid);
            try
            {
                RawWorkerContext.Check(self.Register(), "worker register");
                var ctx = new RawWorkerContext(self);
                try
                {
                    body(ctx);
                }
                finally
                {
                    if (unregister && kernel.IsRegisteredThread)
                    {
                        RawWorkerContext.Check(self.Unregister(), "worker unregister");
                    }
                }
            }
            catch (Exception e)
            {
                errors.Enqueue(e);
                self.LeaveNoServerWaiting();
            }

            // A thread that ends still registered (unregister: false) keeps its block: the kernel half references
            // it until the task is reaped (RawTask.Dispose leaves it to the reaper).
        })
        { IsBackground = true, Name = name };
        thread.Start();
        return thread;
    }
}
