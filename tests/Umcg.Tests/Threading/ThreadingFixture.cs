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

    /// <summary>Runs <paramref name="body"/> on a new worker (<paramref name="onWorker"/>) or a new plain thread; the task carries its outcome.</summary>
    public static Task Start(UmcgScheduler scheduler, Action body, bool onWorker) =>
        onWorker ? scheduler.Spawn(body).Completion : OnPlainThread(body);

    /// <summary>Runs <paramref name="body"/> as <see cref="Start"/> does, waits for it under the watchdog and rethrows its exception.</summary>
    public static void Run(UmcgScheduler scheduler, Action body, bool onWorker, string what)
    {
        var task = Start(scheduler, body, onWorker);
        Finish(scheduler, task, what);
        ThrowIfFailed(task);
    }

    /// <summary>
    /// Starts <paramref name="count"/> waiters one at a time, waiter i running <paramref name="wait"/>(i) on a new
    /// worker, or on a new plain thread where <paramref name="onWorker"/>(i) is false; each starts only once the one
    /// before it has queued (<paramref name="queued"/> counts the queue), so the order of arrival is the order of i.
    /// </summary>
    public static List<Task> StartQueuedWaiters(UmcgScheduler scheduler, int count, Action<int> wait, Func<int, bool> onWorker, Func<int> queued)
    {
        ArgumentNullException.ThrowIfNull(onWorker);
        var waiting = new List<Task>();
        for (int i = 0; i < count; i++)
        {
            int id = i;
            waiting.Add(Start(scheduler, () => wait(id), onWorker(id)));
            Until(scheduler, () => queued() == id + 1, $"waiter {id} queues");
        }

        return waiting;
    }

    /// <summary>
    /// Runs <paramref name="attempt"/> with a zero timeout and then a short one, as <see cref="Run"/> does, and
    /// asserts that both gave up: the resource it tries for (a held lock, a semaphore without permits) stays
    /// unavailable throughout.
    /// </summary>
    public static void AssertTimedAttemptsGiveUp(UmcgScheduler scheduler, Func<TimeSpan, bool> attempt, bool onWorker, string what)
    {
        bool zero = true;
        bool timed = true;
        Run(
            scheduler,
            () =>
            {
                zero = attempt(TimeSpan.Zero);
                timed = attempt(TimeSpan.FromMilliseconds(20));
            },
            onWorker,
            what);
        Assert.False(zero, $"{what}: with a zero timeout");
        Assert.False(timed, $"{what}: with a 20 ms timeout");
    }

    /// <summary>
    /// Runs <paramref name="round"/>(0 .. <paramref name="rounds"/> - 1) in a loop on <paramref name="workers"/>
    /// new workers and <paramref name="threads"/> new plain threads at once, waits for all of them under the
    /// watchdog, and asserts that each finished without an exception. With <paramref name="progress"/>, the
    /// watchdog counts from the last time it moved rather than from the start; <paramref name="describe"/> adds the
    /// primitive's own state to a stall report.
    /// </summary>
    public static void RunOnWorkersAndThreads(UmcgScheduler scheduler, int workers, int threads, int rounds, Action<int> round, Func<long>? progress = null, Func<string>? describe = null)
    {
        void Loop()
        {
            for (int r = 0; r < rounds; r++)
            {
                round(r);
            }
        }

        var handles = Enumerable.Range(0, workers).Select(_ => scheduler.Spawn(Loop)).ToArray();
        var plain = Enumerable.Range(0, threads).Select(_ => OnPlainThread(Loop)).ToArray();
        if (progress is null)
        {
            SchedulerFixture.WaitAll(scheduler, handles);
        }
        else
        {
            WaitAllWhileProgressing(scheduler, progress, describe, handles);
        }

        Finish(scheduler, Task.WhenAll(plain), "plain threads");
        Assert.All(handles, w => Assert.True(w.Completion.IsCompletedSuccessfully, w.Completion.Exception?.ToString()));
        Assert.All(plain, t => Assert.True(t.IsCompletedSuccessfully, t.Exception?.ToString()));
    }

    /// <summary>Cancels <paramref name="cts"/>, waits for <paramref name="waiter"/> under the watchdog, and asserts that it ended by cancellation.</summary>
    public static void CancelAndAssertCanceled(UmcgScheduler scheduler, CancellationTokenSource cts, Task waiter)
    {
        ArgumentNullException.ThrowIfNull(cts);
        cts.Cancel();
        Finish(scheduler, waiter, "canceled waiter");
        AssertCanceled(waiter);
    }

    /// <summary>Asserts that a finished <paramref name="task"/> ended by cancellation (canceled, or faulted with an <see cref="OperationCanceledException"/>).</summary>
    public static void AssertCanceled(Task task) =>
        Assert.True(task.IsCanceled || task.Exception?.InnerException is OperationCanceledException, task.Status.ToString());

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
    public static void WaitAllWhileProgressing(UmcgScheduler scheduler, Func<long> progress, Func<string>? describe, params WorkerHandle[] handles)
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
                    $"no progress for {Watchdog.Limit.TotalSeconds:F0} s ({handles.Count(h => !h.IsCompleted)} of {handles.Length} bodies pending); faults: {string.Join(Environment.NewLine, scheduler.Faults)}"
                    + $"{Environment.NewLine}{describe?.Invoke()}{Environment.NewLine}Scheduler:{Environment.NewLine}{scheduler.DescribeForTests()}");
            }

            seen = now;
        }
    }

    /// <summary>Rethrows the exception of a finished <paramref name="task"/>, if any.</summary>
    public static void ThrowIfFailed(Task task) => task.GetAwaiter().GetResult();
}
