namespace Umcg.Tests.Infrastructure;

/// <summary>
/// Generous stall detection: waits for a condition or a thread, and on a stall fails with a dump of every
/// task's state instead of hanging the test run. The limit is a liveness bound, never a speed assertion.
/// </summary>
public static class Watchdog
{
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan ProgressPoll = TimeSpan.FromMilliseconds(100);

    /// <summary>Spins (yielding) until <paramref name="condition"/> holds.</summary>
    public static void Until(Func<bool> condition, UmcgKernel kernel, string what)
    {
        var sw = Stopwatch.StartNew();
        var spinner = new SpinWait();
        while (!condition())
        {
            if (sw.Elapsed > Limit)
            {
                Fail(kernel, $"stalled waiting for: {what}");
            }

            spinner.SpinOnce(sleep1Threshold: -1);
            if (spinner.Count > 100)
            {
                Thread.Yield();
            }
        }
    }

    /// <summary>
    /// On a worker: spins until <paramref name="condition"/> holds, reaching a safepoint each turn, so that a give-way
    /// or a detector's mark is answered meanwhile (the worker computes, but can be preempted).
    /// </summary>
    public static void UntilAtSafepoints(Func<bool> condition, UmcgKernel kernel, string what) =>
        Until(
            () =>
            {
                Worker.Safepoint();
                return condition();
            },
            kernel,
            what);

    /// <summary>Joins <paramref name="threads"/>; a thread that does not finish fails the test with a dump.</summary>
    public static void Join(UmcgKernel kernel, params Thread[] threads) => Join(kernel, null, threads);

    /// <summary>As <see cref="Join(UmcgKernel, Thread[])"/>, adding <paramref name="describe"/>'s text (e.g. servers' queues) to a stall report.</summary>
    public static void Join(UmcgKernel kernel, Func<string>? describe, params Thread[] threads)
    {
        var deadline = Stopwatch.StartNew();
        foreach (var t in threads)
        {
            var left = Limit - deadline.Elapsed;
            if (left < TimeSpan.Zero || !t.Join(left))
            {
                Fail(kernel, describe is null ? $"thread '{t.Name}' did not finish" : $"thread '{t.Name}' did not finish{Environment.NewLine}{describe()}");
            }
        }
    }

    /// <summary>
    /// As <see cref="Join(UmcgKernel, Func{string}?, Thread[])"/>, but the limit counts from the last change of
    /// <paramref name="progress"/>: a long run that keeps moving on a loaded machine is slow, not stalled, while a
    /// lost wakeup still stops the count and fails with a dump.
    /// </summary>
    public static void JoinWhileProgressing(UmcgKernel kernel, Func<long> progress, Func<string>? describe, params Thread[] threads)
    {
        foreach (var t in threads)
        {
            AwaitWhileProgressing(kernel, () => t.Join(ProgressPoll), progress, () =>
            {
                string why = $"thread '{t.Name}' did not finish";
                return describe is null ? why : $"{why}{Environment.NewLine}{describe()}";
            });
        }
    }

    /// <summary>
    /// Waits on <paramref name="task"/> while <paramref name="progress"/> keeps changing: the limit counts from its
    /// last change, so a big run on a loaded machine is slow, not stalled; <paramref name="why"/> says what stalled.
    /// </summary>
    public static void WaitWhileProgressing(UmcgKernel kernel, Task task, Func<long> progress, Func<string> why)
    {
        ArgumentNullException.ThrowIfNull(task);
        AwaitWhileProgressing(kernel, () => ((IAsyncResult)task).AsyncWaitHandle.WaitOne(ProgressPoll), progress, why);
    }

    /// <summary><paramref name="pollDone"/> waits up to <see cref="ProgressPoll"/>: that is how often progress is looked at, not synchronisation.</summary>
    private static void AwaitWhileProgressing(UmcgKernel kernel, Func<bool> pollDone, Func<long> progress, Func<string> why)
    {
        ArgumentNullException.ThrowIfNull(progress);
        long last = progress();
        var quiet = Stopwatch.StartNew();
        while (!pollDone())
        {
            long now = progress();
            if (now != last)
            {
                last = now;
                quiet.Restart();
            }
            else if (quiet.Elapsed > Limit)
            {
                Fail(kernel, $"{why()} (no progress for {Limit.TotalSeconds:0} s; progress {now})");
            }
        }
    }

    /// <summary>Waits on <paramref name="task"/> with the watchdog limit.</summary>
    public static void Wait(UmcgKernel kernel, Task task, string what)
    {
        if (!task.Wait(Limit))
        {
            Fail(kernel, $"stalled waiting for: {what}");
        }
    }

    /// <summary>
    /// Waits on <paramref name="task"/> for as long as <paramref name="progress"/> keeps moving: the limit counts
    /// from the last change, so a run slowed down by a saturated machine passes and a stall still fails.
    /// </summary>
    public static void WaitWhileProgressing(UmcgKernel kernel, Task task, Func<long> progress, string what)
    {
        ArgumentNullException.ThrowIfNull(task);
        AwaitWhileProgressing(kernel, () => task.Wait(ProgressPoll), progress, () => $"stalled waiting for: {what}");
    }

    public static void Fail(UmcgKernel kernel, string why)
    {
        string message = $"{why}{Environment.NewLine}Tasks:{Environment.NewLine}{kernel.Dump()}{Environment.NewLine}{StallEvidence.Describe(kernel)}";
        t_lastFailure = message;
        Assert.Fail(message);
    }

    /// <summary>
    /// The last watchdog failure raised on this thread, as a note to append to a later failure (a Dispose that
    /// fails while that first failure unwinds would otherwise hide it); empty if there was none.
    /// </summary>
    public static string EarlierFailureNote() =>
        t_lastFailure is { } earlier ? $"{Environment.NewLine}(earlier on this thread: {earlier})" : "";

    [ThreadStatic]
    private static string? t_lastFailure;
}
