using Umcg.Abi;
using Umcg.Kernel.Native;

namespace Umcg.Kernel.Parking;

/// <summary>Parks on the word itself with FUTEX_WAIT_BITSET_PRIVATE and wakes with FUTEX_WAKE_PRIVATE.</summary>
/// <remarks>
/// The futex clock is MONOTONIC, or REALTIME with FUTEX_CLOCK_REALTIME. A deadline on BOOTTIME or TAI is
/// carried over to MONOTONIC at the moment of the call (the two advance together while the machine is awake).
/// </remarks>
public sealed unsafe class FutexParker : IParker
{
    /// <summary>The shared instance.</summary>
    public static readonly FutexParker Instance = new();

    private FutexParker()
    {
    }

    /// <inheritdoc />
    public string Name => "futex";

    /// <inheritdoc />
    public ParkResult Park(uint* word, uint expected, long deadlineNs, ClockId clock)
    {
        bool realtime = clock == ClockId.Realtime;
        if (deadlineNs > 0 && clock is ClockId.Boottime or ClockId.Tai)
        {
            long remaining = deadlineNs - KernelClock.Now(clock);
            if (remaining <= 0)
            {
                return ParkResult.TimedOut;
            }

            deadlineNs = KernelClock.Now(ClockId.Monotonic) + remaining;
        }

        int r = LinuxSyscalls.FutexWaitAbsolute(word, expected, deadlineNs, realtime);
        return r == LinuxSyscalls.ETIMEDOUT ? ParkResult.TimedOut : ParkResult.Woken;
    }

    /// <inheritdoc />
    public void Unpark(uint* word) => LinuxSyscalls.FutexWakeWord(word, 1);
}
