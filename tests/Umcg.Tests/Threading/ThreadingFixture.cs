using Umcg.Scheduling;
using Umcg.Tests.Infrastructure;

namespace Umcg.Tests.Threading;

/// <summary>Helpers for the worker-aware primitives' tests: plain threads beside workers, and watchdog waits.</summary>
internal static class ThreadingFixture
{
    /// <summary>Runs <paramref name="body"/> on a new plain thread (not a worker); the task carries its outcome.</summary>
    public static Task OnPlainThread(Action body)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                body();
                done.SetResult();
            }
#pragma warning disable CA1031 // The outcome belongs to the task.
            catch (Exception e)
            {
                done.SetException(e);
            }
#pragma warning restore CA1031
        })
        { IsBackground = true, Name = "plain test thread" };
        thread.Start();
        return done.Task;
    }

    /// <summary>Spins (yielding) until <paramref name="condition"/> holds; fails with a task dump on a stall.</summary>
    public static void Until(UmcgScheduler scheduler, Func<bool> condition, string what) =>
        Watchdog.Until(condition, scheduler.Kernel, what);

    /// <summary>Waits for <paramref name="task"/> to finish (in any way) under the watchdog.</summary>
    public static void Finish(UmcgScheduler scheduler, Task task, string what)
    {
        if (!((IAsyncResult)task).AsyncWaitHandle.WaitOne(Watchdog.Limit))
        {
            Watchdog.Fail(scheduler.Kernel, $"stalled waiting for: {what}");
        }
    }

    /// <summary>
    /// Waits for <paramref name="handles"/> as long as <paramref name="progress"/> keeps moving: a stress test on a
    /// busy machine may take long, but a whole watchdog period without progress fails with a task dump.
    /// </summary>
    public static void WaitAllWhileProgressing(UmcgScheduler scheduler, Func<long> progress, params WorkerHandle[] handles)
    {
        var all = ((IAsyncResult)Task.WhenAll(handles.Select(h => h.Completion))).AsyncWaitHandle;
        long seen = progress();
        while (!all.WaitOne(Watchdog.Limit))
        {
            long now = progress();
            if (now == seen)
            {
                Watchdog.Fail(
                    scheduler.Kernel,
                    $"no progress for {Watchdog.Limit.TotalSeconds:F0} s ({handles.Count(h => !h.IsCompleted)} of {handles.Length} bodies pending); faults: {string.Join(Environment.NewLine, scheduler.Faults)}");
            }

            seen = now;
        }
    }

    /// <summary>Rethrows the exception of a finished <paramref name="task"/>, if any.</summary>
    public static void ThrowIfFailed(Task task) => task.GetAwaiter().GetResult();
}
