namespace Umcg.Abi;

/// <summary>Sizes, masks and the <c>next_tid</c> bits of the UMCG ABI.</summary>
public static class UmcgConstants
{
    /// <summary>Size of <see cref="UmcgTask"/> in bytes.</summary>
    public const int TaskSize = 64;

    /// <summary>Required alignment of a <see cref="UmcgTask"/>; a misaligned block is refused with EINVAL.</summary>
    public const int TaskAlign = 64;

    /// <summary>Bits 0–7 of <see cref="UmcgTask.State"/>: the <see cref="TaskState"/>.</summary>
    public const uint StateMask = 0x00ff;

    /// <summary>Bits 8–15 of <see cref="UmcgTask.State"/>: the <see cref="TaskFlags"/>.</summary>
    public const uint FlagsMask = 0xff00;

    /// <summary>Bits 16–31 of <see cref="UmcgTask.State"/> belong to user space; the kernel half preserves them.</summary>
    public const uint UserMask = 0xffff_0000;

    /// <summary>
    /// Bits 16–23 of <see cref="UmcgTask.State"/>, user bits the kernel half reads for quiet arrivals (an
    /// extension of the RFC; see docs/conformance.md): a worker's rank, and a server's quiet margin. A worker
    /// that becomes runnable while its server runs worker R does not wake the server if the margin m is not 0
    /// and rank(worker) &lt; rank(R) + m − 1 (m = 1: quiet below R's rank; m = 2: up to R's rank). A margin of
    /// 0 (the default) wakes the server for every arrival, as the RFC does.
    /// </summary>
    public const uint ArrivalMask = 0x00ff_0000;

    /// <summary>The shift of <see cref="ArrivalMask"/>.</summary>
    public const int ArrivalShift = 16;

    /// <summary>
    /// Set in a server's <see cref="UmcgTask.NextTid"/> once the worker it names has been woken: the server
    /// always knows which worker it runs, and a worker is never woken twice.
    /// </summary>
    public const uint TidRunning = 0x8000_0000;

    /// <summary>
    /// A server's <see cref="UmcgTask.NextTid"/> while it sleeps with nothing to run and lets the first worker that
    /// becomes runnable for it start itself (an extension of the RFC; see docs/conformance.md): that worker's unblock
    /// replaces this value with its TID and <see cref="TidRunning"/>, and it runs at once. Written by the server over 0
    /// only, and taken back by CAS when its wait returns.
    /// </summary>
    public const uint TidOpen = 0x4000_0000;

    /// <summary>The TID part of <see cref="UmcgTask.NextTid"/> (Linux TIDs fit 30 bits).</summary>
    public const uint TidMask = 0x3fff_ffff;
}
