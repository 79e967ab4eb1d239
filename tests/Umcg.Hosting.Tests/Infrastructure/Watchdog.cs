namespace Umcg.Hosting.Tests.Infrastructure;

/// <summary>
/// Stall detection for awaited tasks: a generous liveness bound, never a speed assertion. A stall fails the test
/// with the scheduler's statistics and every kernel task's state instead of hanging the run.
/// </summary>
public static class Watchdog
{
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    /// <summary>Awaits <paramref name="task"/>; if it has not completed within <see cref="Limit"/>, fails with a dump.</summary>
    public static async Task Within(Task task, UmcgScheduler? scheduler, string what)
    {
        ArgumentNullException.ThrowIfNull(task);
        if (await Task.WhenAny(task, Task.Delay(Limit)) != task)
        {
            Assert.Fail($"stalled waiting for: {what}{Environment.NewLine}{Describe(scheduler)}");
        }

        await task;
    }

    /// <summary>As <see cref="Within(Task, UmcgScheduler?, string)"/>, returning the task's result.</summary>
    public static async Task<T> Within<T>(Task<T> task, UmcgScheduler? scheduler, string what)
    {
        await Within((Task)task, scheduler, what);
        return await task;
    }

    /// <summary>Waits for <paramref name="signal"/> (set by a body or a handler) with the same bound.</summary>
    public static Task Signaled(TaskCompletionSource signal, UmcgScheduler? scheduler, string what)
    {
        ArgumentNullException.ThrowIfNull(signal);
        return Within(signal.Task, scheduler, what);
    }

    /// <summary>
    /// Polls <paramref name="condition"/> (a count the scheduler keeps) until it holds. The poll interval is how often
    /// it is looked at, not synchronisation: the condition is what the test waits for.
    /// </summary>
    public static async Task Until(Func<bool> condition, UmcgScheduler? scheduler, string what)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var elapsed = Stopwatch.StartNew();
        while (!condition())
        {
            if (elapsed.Elapsed > Limit)
            {
                Assert.Fail($"stalled waiting for: {what}{Environment.NewLine}{Describe(scheduler)}");
            }

            await Task.Delay(1);
        }
    }

    private static string Describe(UmcgScheduler? scheduler) =>
        scheduler is null
            ? "(no scheduler)"
            : $"worker threads {scheduler.Stats.WorkerThreads}, queued {scheduler.Stats.QueuedBodies}, spawned {scheduler.Stats.Spawned}, completed {scheduler.Stats.Completed}{Environment.NewLine}Tasks:{Environment.NewLine}{scheduler.Kernel.Dump()}";
}
