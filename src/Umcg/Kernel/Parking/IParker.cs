using Umcg.Abi;

namespace Umcg.Kernel.Parking;

/// <summary>How a <see cref="IParker.Park"/> call ended.</summary>
public enum ParkResult
{
    /// <summary>Woken, the word changed, or a spurious return: the caller re-checks its condition.</summary>
    Woken,

    /// <summary>The absolute deadline passed.</summary>
    TimedOut,
}

/// <summary>
/// Sleeps a thread on a 32-bit word and wakes it: the seam between the UMCG protocol and the platform.
/// </summary>
/// <remarks>
/// Contract (the futex contract): <see cref="Park"/> returns at once if <c>*word != expected</c>, and otherwise
/// sleeps until <see cref="Unpark"/> is called on the same word, the deadline passes, or spuriously. A waker
/// always changes the word <em>before</em> it calls <see cref="Unpark"/>; that order is what makes a wakeup
/// impossible to lose, since a parker re-reads the word after arming itself.
/// </remarks>
public unsafe interface IParker
{
    /// <summary>A short name for reports ("futex", "monitor").</summary>
    string Name { get; }

    /// <summary>Sleeps while <c>*word == expected</c>.</summary>
    /// <param name="word">The word to sleep on (a task's state).</param>
    /// <param name="expected">The value the caller last saw.</param>
    /// <param name="deadlineNs">Absolute deadline on <paramref name="clock"/>, in nanoseconds; 0 for none.</param>
    /// <param name="clock">The clock the deadline is on.</param>
    ParkResult Park(uint* word, uint expected, long deadlineNs, ClockId clock);

    /// <summary>Wakes the thread sleeping on <paramref name="word"/>, if any.</summary>
    void Unpark(uint* word);
}
