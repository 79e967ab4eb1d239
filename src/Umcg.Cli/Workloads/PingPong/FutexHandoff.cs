using System.Runtime.InteropServices;
using Umcg.Kernel.Native;

namespace Umcg.Cli.Workloads.PingPong;

/// <summary>
/// The floor for OS-thread handoffs: two threads taking turns on one futex word, with the same wait and wake
/// helpers the kernel half parks with (FUTEX_WAIT_BITSET_PRIVATE, FUTEX_WAKE_PRIVATE).
/// </summary>
internal sealed unsafe class FutexHandoff : ThreadPairHandoff
{
    private const uint PingsTurn = 0;
    private const uint PongsTurn = 1;

    public override string Name => "futex";

    public override string Describe => "raw futex word: write + FUTEX_WAKE, FUTEX_WAIT until it is our turn";

    public override long Run(int cpu, int servers, TimeSpan duration, Measurement.LatencyRecorder latency)
    {
        _turn = (uint*)NativeMemory.AlignedAlloc(64, 64);
        *_turn = PingsTurn;
        try
        {
            return base.Run(cpu, servers, duration, latency);
        }
        finally
        {
            NativeMemory.AlignedFree(_turn);
        }
    }

    private uint* _turn;

    protected override void RoundTrip()
    {
        Pass(PongsTurn);
        AwaitTurn(PingsTurn);
    }

    protected override void WaitForPing() => AwaitTurn(PongsTurn);

    protected override void AnswerPing() => Pass(PingsTurn);

    protected override void ReleasePong() => Pass(PongsTurn);

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
