using Umcg.Kernel;

namespace Umcg.Scheduling;

/// <summary>
/// A worker's park word, <c>(sequence &lt;&lt; 8) | state</c>: which park this is and where it stands
/// (<see cref="WorkerThread.ParkState"/>). One 64-bit word, so that a CAS on it checks both at once: a timer armed
/// for one park, or a late unpark, expects that park's sequence and can never end a later one.
/// </summary>
/// <remarks>
/// The word only moves along the edges in the head of WorkerThread.Parking.cs. <see cref="Begin"/> and
/// <see cref="With"/> are the only ways to build one, and they check their ranges: only the worker and its
/// server write the word, so a state or sequence out of range is a bug. 2^55 parks of one worker would
/// overflow the sequence, which no process lives to see.
/// </remarks>
internal readonly struct ParkWord : IEquatable<ParkWord>
{
    private const int StateBits = 8;
    private const long StateMask = (1L << StateBits) - 1;
    private const long MaxSequence = long.MaxValue >> StateBits;

    /// <summary>The word as stored.</summary>
    public readonly long Raw;

    /// <summary>Takes a stored word apart.</summary>
    public ParkWord(long raw) => Raw = raw;

    /// <summary>Where the park stands: one of <see cref="WorkerThread.ParkState"/>.</summary>
    public int State => (int)(Raw & StateMask);

    /// <summary>Which park this is: counts the worker's parks, from 0 before the first.</summary>
    public long Sequence => Raw >> StateBits;

    /// <summary>The next park of the worker, in <paramref name="state"/>.</summary>
    public ParkWord Begin(int state) => Of(Sequence + 1, state);

    /// <summary>The same park in <paramref name="state"/>.</summary>
    public ParkWord With(int state) => Of(Sequence, state);

    /// <summary>Park <paramref name="sequence"/> in <paramref name="state"/>.</summary>
    public static ParkWord Of(long sequence, int state)
    {
        ProtocolBug.Check((uint)state <= WorkerThread.ParkState.Last && (ulong)sequence <= MaxSequence, "a park word holds a ParkState and a sequence in range");
        return new((sequence << StateBits) | (long)state);
    }

    /// <inheritdoc />
    public bool Equals(ParkWord other) => Raw == other.Raw;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is ParkWord other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => Raw.GetHashCode();

    /// <summary>Equality of the raw words.</summary>
    public static bool operator ==(ParkWord left, ParkWord right) => left.Equals(right);

    /// <summary>Inequality of the raw words.</summary>
    public static bool operator !=(ParkWord left, ParkWord right) => !left.Equals(right);

    /// <inheritdoc />
    public override string ToString() => $"park {Sequence} state {State}";
}
