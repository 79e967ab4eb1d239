namespace Umcg.Abi;

/// <summary>The Linux clock ids a UMCG task may register for its timestamps and timeouts.</summary>
public enum ClockId
{
    /// <summary>CLOCK_REALTIME: wall-clock time.</summary>
    Realtime = 0,

    /// <summary>CLOCK_MONOTONIC: time since boot, not counting suspend.</summary>
    Monotonic = 1,

    /// <summary>CLOCK_BOOTTIME: time since boot, counting suspend.</summary>
    Boottime = 7,

    /// <summary>CLOCK_TAI: international atomic time.</summary>
    Tai = 11,
}
