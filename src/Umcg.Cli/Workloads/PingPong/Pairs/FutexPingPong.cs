using System.Runtime.InteropServices;

namespace Umcg.Cli.Workloads.PingPong.Pairs;

/// <summary>
/// The floor: two threads taking turns on one futex word with the same helpers the kernel half parks with
/// (FUTEX_WAIT_BITSET_PRIVATE without a timeout, FUTEX_WAKE_PRIVATE). One round trip is two handoffs and
/// costs two wakes and two waits, as a UMCG round trip does.
/// </summary>
internal sealed unsafe class FutexPingPong : TurnTakingPingPong
{
    // Whose turn it is: the value of a Side. Its own cache line, like a UMCG control block, so nothing else shares it.
    private readonly uint* _turn = (uint*)NativeMemory.AlignedAlloc(64, 64);

    /// <summary>Creates the pair; see <see cref="PingPongPair"/>.</summary>
    public FutexPingPong(int? cpu)
        : base(cpu, "futex pong") => *_turn = (uint)Side.Ping;

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        NativeMemory.AlignedFree(_turn);
        base.Dispose(disposing);
    }

    /// <inheritdoc />
    protected override string Describe() => $"turn word = {Volatile.Read(ref *_turn)}, pong alive = {PongAlive}";

    /// <inheritdoc />
    protected override void GiveTurn(Side to)
    {
        // The word changes before the wake, so a partner that has not slept yet sees it and never sleeps.
        Volatile.Write(ref *_turn, (uint)to);
        LinuxSyscalls.FutexWakeWord(_turn, 1);
    }

    /// <inheritdoc />
    protected override void AwaitTurn(Side mine)
    {
        uint seen;
        while ((seen = Volatile.Read(ref *_turn)) != (uint)mine)
        {
            LinuxSyscalls.FutexWaitAbsolute(_turn, seen, 0, realtime: false);
        }
    }
}
