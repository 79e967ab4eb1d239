using System.Diagnostics;
using Umcg.Abi;
using Umcg.Kernel.Native;

namespace Umcg.Kernel;

/// <summary>Reads the clocks a UMCG task can register, in nanoseconds.</summary>
public static class KernelClock
{
    /// <summary>Whether <paramref name="clock"/> is one of the clocks Ctl accepts.</summary>
    public static bool IsSupported(ClockId clock) =>
        clock is ClockId.Realtime or ClockId.Monotonic or ClockId.Boottime or ClockId.Tai;

    /// <summary>The current time on <paramref name="clock"/>, in nanoseconds.</summary>
    public static long Now(ClockId clock)
    {
        if (OperatingSystem.IsLinux())
        {
            return LinuxSyscalls.ClockNow((int)clock);
        }

        // Portable fallback: one monotonic and one wall clock.
        return clock == ClockId.Realtime || clock == ClockId.Tai
            ? (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100
            : (long)(Stopwatch.GetTimestamp() * (1_000_000_000.0 / Stopwatch.Frequency));
    }

    /// <summary>The absolute deadline <paramref name="timeout"/> from now on <paramref name="clock"/>.</summary>
    public static long DeadlineAfter(ClockId clock, TimeSpan timeout) => Now(clock) + (long)(timeout.TotalMilliseconds * 1_000_000);
}
