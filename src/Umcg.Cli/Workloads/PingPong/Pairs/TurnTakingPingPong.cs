namespace Umcg.Cli.Workloads.PingPong.Pairs;

/// <summary>
/// Two threads taking turns: ping gives pong the turn and awaits its own; pong awaits its turn, answers, and
/// gives the turn back. The futex, event and semaphore ping-pongs share this loop and differ only in how a turn
/// is given and awaited.
/// </summary>
internal abstract class TurnTakingPingPong : PingPongPair
{
    private readonly string _pongName;
    private Thread? _pong;
    private long _answered;

    // Set before the last turn is given to pong, so pong sees it once that turn reaches it.
    private volatile bool _stop;

    /// <summary>Creates the pair; see <see cref="PingPongPair"/>.</summary>
    /// <param name="cpu">The one CPU both threads run on, or null for no pinning.</param>
    /// <param name="pongName">The name of the answering thread.</param>
    protected TurnTakingPingPong(int? cpu, string pongName)
        : base(cpu) => _pongName = pongName;

    /// <summary>Whose turn it is: the measuring thread's (ping) or its partner's (pong).</summary>
    protected enum Side
    {
        /// <summary>The measuring thread.</summary>
        Ping,

        /// <summary>The answering thread.</summary>
        Pong,
    }

    /// <inheritdoc />
    protected override long Answered => Volatile.Read(ref _answered);

    /// <summary>Whether the answering thread is alive (null before <see cref="SetUp"/>), for a stall report.</summary>
    protected bool? PongAlive => _pong?.IsAlive;

    /// <summary>Gives the turn to <paramref name="to"/>, waking it if it waits.</summary>
    protected abstract void GiveTurn(Side to);

    /// <summary>Waits until the turn is <paramref name="mine"/>'s (and takes it).</summary>
    protected abstract void AwaitTurn(Side mine);

    /// <inheritdoc />
    protected override void SetUp() => _pong = StartPartner(_pongName, PongLoop);

    /// <inheritdoc />
    protected override void RunBatch(long roundTrips)
    {
        StartLaps();
        for (long i = 0; i < roundTrips; i++)
        {
            GiveTurn(Side.Pong);
            AwaitTurn(Side.Ping);
            Lap();
        }
    }

    /// <inheritdoc />
    protected override void TearDown()
    {
        _stop = true;
        GiveTurn(Side.Pong);
        Join(_pong!);
    }

    private void PongLoop()
    {
        while (true)
        {
            AwaitTurn(Side.Pong);
            if (_stop)
            {
                return;
            }

            _answered++;
            GiveTurn(Side.Ping);
        }
    }
}
