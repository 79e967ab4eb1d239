using System.Globalization;
using Umcg.Kernel;

namespace Umcg.Abi;

/// <summary>
/// A server's <see cref="UmcgTask.NextTid"/> read as its running slot: empty (0), a pick (a worker's TID, not
/// started yet), a running worker (its TID with <see cref="UmcgConstants.TidRunning"/>), or open to arrivals
/// (<see cref="UmcgConstants.TidOpen"/> alone: the server sleeps with nothing to run). The one place the bits are
/// put together and taken apart.
/// </summary>
/// <remarks>
/// Only <see cref="Running"/> and <see cref="Pick"/> build a slot, and they check that the TID fits
/// <see cref="UmcgConstants.TidMask"/>: the kernel half and the scheduler build slots from TIDs they got from
/// the OS, so a TID that does not fit is a bug. A slot read from memory (<see cref="FromRaw"/>) is taken as it is:
/// user code may have written anything there.
/// </remarks>
public readonly struct RunningSlot : IEquatable<RunningSlot>
{
    private RunningSlot(uint raw) => Raw = raw;

    /// <summary>The empty slot: no worker picked or running.</summary>
    public static RunningSlot Empty => default;

    /// <summary>The word as stored in next_tid.</summary>
    public uint Raw { get; }

    /// <summary>The TID part (bits 0–29): the worker picked or running, 0 for none.</summary>
    public int Tid => (int)(Raw & UmcgConstants.TidMask);

    /// <summary>Whether <see cref="UmcgConstants.TidRunning"/> is set: the named worker was started and runs.</summary>
    public bool IsRunning => (Raw & UmcgConstants.TidRunning) != 0;

    /// <summary>Whether the word is 0.</summary>
    public bool IsEmpty => Raw == 0;

    /// <summary>Whether the word names a worker without <see cref="UmcgConstants.TidRunning"/>: a pick the server's next Wait starts.</summary>
    public bool IsPick => Raw != 0 && !IsRunning && !IsOpen;

    /// <summary>Whether the word is <see cref="UmcgConstants.TidOpen"/>: the server sleeps open to an arrival that starts itself.</summary>
    public bool IsOpen => Raw == UmcgConstants.TidOpen;

    /// <summary>The open slot: nothing runs, and the first arrival may start itself.</summary>
    public static RunningSlot Open => new(UmcgConstants.TidOpen);

    /// <summary>The slot of <paramref name="tid"/> running.</summary>
    public static RunningSlot Running(int tid) => new(Checked(tid) | UmcgConstants.TidRunning);

    /// <summary>The slot naming <paramref name="tid"/> as the server's pick (not started).</summary>
    public static RunningSlot Pick(int tid) => new(Checked(tid));

    /// <summary>A slot as read from next_tid (any value user code may have written).</summary>
    public static RunningSlot FromRaw(uint raw) => new(raw);

    /// <summary>Whether this slot is exactly <paramref name="tid"/> running.</summary>
    public bool IsRunningTid(int tid) => Raw == ((uint)tid | UmcgConstants.TidRunning);

    /// <inheritdoc />
    public bool Equals(RunningSlot other) => Raw == other.Raw;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is RunningSlot other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => (int)Raw;

    /// <summary>Equality of the raw words.</summary>
    public static bool operator ==(RunningSlot left, RunningSlot right) => left.Equals(right);

    /// <summary>Inequality of the raw words.</summary>
    public static bool operator !=(RunningSlot left, RunningSlot right) => !left.Equals(right);

    /// <summary>"-", "open", the TID, or the TID with "|RUNNING" (bits outside the TID and the running bit are not shown).</summary>
    public override string ToString() => IsOpen ? "open" : Tid == 0
        ? "-"
        : string.Create(CultureInfo.InvariantCulture, $"{Tid}{(IsRunning ? "|RUNNING" : "")}");

    private static uint Checked(int tid)
    {
        ProtocolBug.Check(tid > 0 && (uint)tid <= UmcgConstants.TidMask, "a slot names a TID in 1..TidMask");
        return (uint)tid;
    }
}
