namespace Umcg.Cli.Workloads.PingPong.Pairs;

/// <summary>
/// Two threads taking turns through a pair of signals, one each way: ping signals "to pong" and awaits "to
/// ping"; pong awaits "to pong", answers, and signals "to ping". The event and semaphore ping-pongs share
/// this shape and differ only in how a signal is given and awaited.
/// </summary>
/// <typeparam name="TSignal">The primitive one signal is (an event, a semaphore).</typeparam>
internal abstract class SignalPairPingPong<TSignal> : TurnTakingPingPong
    where TSignal : IDisposable
{
    private readonly TSignal _toPong;
    private readonly TSignal _toPing;

    /// <summary>Creates the pair of signals with <paramref name="create"/>; see <see cref="PingPongPair"/>.</summary>
    /// <param name="cpu">The one CPU both threads run on, or null for no pinning.</param>
    /// <param name="create">Makes one unsignalled signal.</param>
    /// <param name="pongName">The name of the answering thread.</param>
    protected SignalPairPingPong(int? cpu, Func<TSignal> create, string pongName)
        : base(cpu, pongName)
    {
        ArgumentNullException.ThrowIfNull(create);
        _toPong = create();
        _toPing = create();
    }

    /// <summary>Gives <paramref name="signal"/> once, waking its waiter (or letting its next wait pass).</summary>
    protected abstract void Signal(TSignal signal);

    /// <summary>Waits until <paramref name="signal"/> is given, and consumes it.</summary>
    protected abstract void Await(TSignal signal);

    /// <inheritdoc />
    protected override void GiveTurn(Side to) => Signal(to == Side.Pong ? _toPong : _toPing);

    /// <inheritdoc />
    protected override void AwaitTurn(Side mine) => Await(mine == Side.Pong ? _toPong : _toPing);

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        _toPong.Dispose();
        _toPing.Dispose();
        base.Dispose(disposing);
    }
}
