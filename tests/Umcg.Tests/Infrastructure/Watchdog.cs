using System.Diagnostics;
using Umcg.Kernel;

namespace Umcg.Tests.Infrastructure;

/// <summary>
/// Generous stall detection: waits for a condition or a thread, and on a stall fails with a dump of every
/// task's state instead of hanging the test run. The limit is a liveness bound, never a speed assertion.
/// </summary>
public static class Watchdog
{
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

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

    /// <summary>Joins <paramref name="threads"/>; a thread that does not finish fails the test with a dump.</summary>
    public static void Join(UmcgKernel kernel, params Thread[] threads)
    {
        var deadline = Stopwatch.StartNew();
        foreach (var t in threads)
        {
            var left = Limit - deadline.Elapsed;
            if (left < TimeSpan.Zero || !t.Join(left))
            {
                Fail(kernel, $"thread '{t.Name}' did not finish");
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

    public static void Fail(UmcgKernel kernel, string why) =>
        Assert.Fail($"{why}{Environment.NewLine}Tasks:{Environment.NewLine}{kernel.Dump()}");
}
