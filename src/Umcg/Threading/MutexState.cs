using Umcg.Kernel;

namespace Umcg.Threading;

/// <summary>
/// A <see cref="UmcgMutex"/>'s state word: a set of bits, each named here once. Both modes use
/// <see cref="Locked"/> and <see cref="Waiters"/>; <see cref="MutexHandOff.Barging"/> adds <see cref="Woken"/> and
/// <see cref="Starving"/>. Who may change which bit is told by the core of each mode (FifoMutexCore.cs,
/// BargingMutexCore.cs).
/// </summary>
/// <remarks>
/// Every value a core computes to store goes through <see cref="With"/>, which checks the invariants that hold
/// in every reachable state: Starving ⇒ Locked (starvation mode hands the lock over instead of clearing Locked),
/// and Starving ⇒ ¬Woken (only the woken waiter sets Starving, giving up Woken in the same CAS). Only the cores
/// write the word, so a value that breaks them is a bug.
/// </remarks>
internal readonly struct MutexState
{
    // The bits. Held and Contended are the FIFO mode's two held states.
    public const int Free = 0;                     // nobody holds the lock, nobody waits
    public const int Locked = 1;                   // someone holds the lock
    public const int Waiters = 2;                  // the wait queue is not empty (changed only under the gate)
    public const int Woken = 4;                    // Barging: a waiter was woken to compete and has not retried yet
    public const int Starving = 8;                 // Barging: starvation mode, unlocks hand over, newcomers queue
    public const int Held = Locked;                // held, nobody queued: the owner may release with its fast CAS
    public const int Contended = Locked | Waiters; // held, waiters queued: the owner takes the slow path

    /// <summary>The bits as stored.</summary>
    public readonly int Bits;

    /// <summary>Takes a stored word apart.</summary>
    public MutexState(int bits) => Bits = bits;

    /// <summary>Whether someone holds the lock.</summary>
    public bool IsLocked => (Bits & Locked) != 0;

    /// <summary>Whether the wait queue is not empty.</summary>
    public bool HasWaiters => (Bits & Waiters) != 0;

    /// <summary>Whether a woken waiter is on its way to retry.</summary>
    public bool IsWoken => (Bits & Woken) != 0;

    /// <summary>Whether the mutex is in starvation mode.</summary>
    public bool IsStarving => (Bits & Starving) != 0;

    /// <summary>This state with the bits of <paramref name="set"/> set and those of <paramref name="clear"/> cleared, checked.</summary>
    public MutexState With(int set, int clear)
    {
        int bits = (Bits | set) & ~clear;
        ProtocolBug.Check((bits & Starving) == 0 || (bits & (Locked | Woken)) == Locked, "a mutex in starvation mode is held and has no woken waiter");
        return new(bits);
    }

    /// <inheritdoc />
    public override string ToString() => $"0x{Bits:x}";
}
