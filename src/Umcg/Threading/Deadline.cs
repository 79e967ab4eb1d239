using Umcg.Abi;
using Umcg.Kernel;

namespace Umcg.Threading;

/// <summary>
/// Timeouts as absolute deadlines on the monotonic clock (ns), the form a worker's park and its server's
/// timer heap use. 0 means "no deadline".
/// </summary>
internal static class Deadline
{
    public const long None = 0;

    /// <summary>The deadline <paramref name="timeout"/> from now; <see cref="Timeout.InfiniteTimeSpan"/> (and anything too far to represent) is <see cref="None"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative timeout other than <see cref="Timeout.InfiniteTimeSpan"/>.</exception>
    public static long After(TimeSpan timeout, string paramName = "timeout")
    {
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            return None;
        }

        if (timeout < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(paramName, timeout, "A timeout must be zero or more, or Timeout.InfiniteTimeSpan.");
        }

        long now = Now();
        long left = long.MaxValue - now;
        return timeout.Ticks >= left / TimeSpan.NanosecondsPerTick ? None : now + (timeout.Ticks * TimeSpan.NanosecondsPerTick);
    }

    /// <summary>The monotonic clock, in ns.</summary>
    public static long Now() => KernelClock.Now(ClockId.Monotonic);

    /// <summary>
    /// Whole milliseconds until <paramref name="deadlineNs"/>, rounded up (Monitor.Wait truncates, and a wait
    /// that returns just before its deadline would spin), at most int.MaxValue; 0 once it passed.
    /// </summary>
    public static int MillisecondsLeft(long deadlineNs)
    {
        long ns = deadlineNs - Now();
        return ns <= 0 ? 0 : (int)Math.Min(int.MaxValue, (ns + 999_999) / 1_000_000);
    }
}
