using Umcg.Abi;

namespace Umcg.Kernel.Parking;

/// <summary>
/// A portable parker: <see cref="Monitor.Wait(object, int)"/> on one of a fixed set of lock stripes chosen by
/// the word's address. Runs the same protocol as the futex parker on any platform .NET runs on.
/// </summary>
/// <remarks>
/// No lost wakeup: the parker reads the word while holding the stripe's lock and waits without releasing it
/// in between (Monitor.Wait releases and sleeps atomically); the waker changes the word first and then takes
/// the same lock to pulse, so it either runs before the parker's check (which then sees the new value) or
/// after the parker is already waiting (which the pulse reaches).
/// </remarks>
public sealed unsafe class MonitorParker : IParker
{
    private const int StripeBits = 6;
    private const int StripeCount = 1 << StripeBits;

    /// <summary>The shared instance.</summary>
    public static readonly MonitorParker Instance = new();

    private readonly object[] _stripes;

    /// <summary>A parker with stripes of its own (tests that count wake-ups must not see other parkers' pulses).</summary>
    internal MonitorParker()
    {
        _stripes = new object[StripeCount];
        for (int i = 0; i < _stripes.Length; i++)
        {
            _stripes[i] = new object();
        }
    }

    /// <inheritdoc />
    public string Name => "monitor";

    private object StripeOf(uint* word) => _stripes[StripeIndexOf(word)];

    /// <summary>
    /// The stripe of <paramref name="word"/>: the 64-byte line it lives in, Fibonacci-hashed to 6 bits. A plain
    /// modulo of the address would put every page-aligned block (guarded test blocks: one page each) on one
    /// stripe, and then each wake-up pulses every thread parked anywhere: a thousand workers woke a thousand
    /// times per switch, and a server could wait its turn on the lock for over a minute.
    /// </summary>
    internal static int StripeIndexOf(uint* word) => (int)(((ulong)(nuint)word >> 6) * 0x9E3779B97F4A7C15UL >> (64 - StripeBits));

    /// <inheritdoc />
    public ParkResult Park(uint* word, uint expected, long deadlineNs, ClockId clock)
    {
        object stripe = StripeOf(word);
        lock (stripe)
        {
            if (Volatile.Read(ref *word) != expected)
            {
                return ParkResult.Woken;
            }

            if (deadlineNs <= 0)
            {
                Monitor.Wait(stripe);
                return ParkResult.Woken;
            }

            long remainingNs = deadlineNs - KernelClock.Now(clock);
            if (remainingNs <= 0)
            {
                return ParkResult.TimedOut;
            }

            // Round up so that a wake-up "just before" the deadline is not reported as a timeout.
            int ms = (int)Math.Min(int.MaxValue, (remainingNs + 999_999) / 1_000_000);
            Monitor.Wait(stripe, ms);
            return KernelClock.Now(clock) >= deadlineNs && Volatile.Read(ref *word) == expected
                ? ParkResult.TimedOut
                : ParkResult.Woken;
        }
    }

    /// <inheritdoc />
    public void Unpark(uint* word)
    {
        object stripe = StripeOf(word);
        lock (stripe)
        {
            // Several words share a stripe: wake them all and let each re-check its own word.
            Monitor.PulseAll(stripe);
        }
    }
}
