using System.Runtime.InteropServices;

namespace Umcg.Cli.Workloads.PingPong.Pairs;

/// <summary>
/// The floor: two threads taking turns on one futex word with the same helpers the kernel half parks with
/// (FUTEX_WAIT_BITSET_PRIVATE without a timeout, FUTEX_WAKE_PRIVATE). One round trip is two handoffs and
/// costs two wakes and two waits, as a UMCG round trip does.
/// </summary>
internal sealed unsafe class FutexPingPong : PingPongPair
{
    private const uint PingsTurn = 0;
    private const uint PongsTurn = 1;

    // Its own cache line, like a UMCG control block, so nothing else shares it.
    private readonly uint* _turn = (uint*)NativeMemory.AlignedAlloc(64, 64);
    private Thread? _pong;
    private long _answered;
    private volatile bool _stop;

    /// <summary>Creates the pair; see <see cref="PingPongPair"/>.</summary>
    public FutexPingPong(int? cpu)
        : base(cpu) => *_turn = PingsTurn;

    /// <inheritdoc />
    protected override long Answered => Volatile.Read(ref _answered);

    /// <inheritdoc />
    protected override void SetUp()
    {
        _pong = StartPartner("futex pong", PongLoop);
    }

    /// <inheritdoc />
    protected override void RunBatch(long roundTrips)
    {
        StartLaps();
        for (long i = 0; i < roundTrips; i++)
        {
            Pass(PongsTurn);
            AwaitTurn(PingsTurn);
            Lap();
        }
    }

    /// <inheritdoc />
    protected override void TearDown()
    {
        _stop = true;
        Pass(PongsTurn);
        Join(_pong!);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        NativeMemory.AlignedFree(_turn);
        base.Dispose(disposing);
    }

    /// <inheritdoc />
    protected override string Describe() => $"turn word = {Volatile.Read(ref *_turn)}, pong alive = {_pong?.IsAlive}";

    private void PongLoop()
    {
        while (true)
        {
            AwaitTurn(PongsTurn);
            if (_stop)
            {
                return;
            }

            _answered++;
            Pass(PingsTurn);
        }
    }

    // The word changes before the wake, so a partner that has not slept yet sees it and never sleeps.
    private void Pass(uint to)
    {
        Volatile.Write(ref *_turn, to);
        LinuxSyscalls.FutexWakeWord(_turn, 1);
    }

    private void AwaitTurn(uint mine)
    {
        uint seen;
        while ((seen = Volatile.Read(ref *_turn)) != mine)
        {
            LinuxSyscalls.FutexWaitAbsolute(_turn, seen, 0, realtime: false);
        }
    }
}
