namespace Umcg.Cli.Workloads.PingPong.Pairs;

/// <summary>
/// Two threads taking turns through a pair of signals, one each way: ping signals "to pong" and awaits "to
/// ping"; pong awaits "to pong", answers, and signals "to ping". The event and semaphore ping-pongs share
/// this shape and differ only in how a signal is given and awaited.
/// </summary>
/// <typeparam name="TSignal">The primitive one signal is (an event, a semaphore).</typeparam>
internal abstract class SignalPairPingPong<TSignal> : PingPongPair
    where TSignal : IDisposable
{
    private readonly TSignal _toPong;
    private readonly TSignal _toPing;
    private readonly string _pongName;
    private Thread? _pong;
    private long _answered;
    private volatile bool _stop;

    /// <summary>Creates the pair of signals with <paramref name="create"/>; see <see cref="PingPongPair"/>.</summary>
    /// <param name="cpu">The one CPU both threads run on, or null for no pinning.</param>
    /// <param name="create">Makes one unsignalled signal.</param>
    /// <param name="pongName">The name of the answering thread.</param>
    protected SignalPairPingPong(int? cpu, Func<TSignal> create, string pongName)
        : base(cpu)
    {
        ArgumentNullException.ThrowIfNull(create);
        _toPong = create();
        _toPing = create();
        _pongName = pongName;
    }

    /// <inheritdoc />
    protected override long Answered => Volatile.Read(ref _answered);

    /// <summary>Gives <paramref name="signal"/> once, waking its waiter (or letting its next wait pass).</summary>
    protected abstract void Signal(TSignal signal);

    /// <summary>Waits until <paramref name="signal"/> is given, and consumes it.</summary>
    protected abstract void Await(TSignal signal);

    /// <inheritdoc />
    protected override void SetUp() => _pong = StartPartner(_pongName, PongLoop);

    /// <inheritdoc />
    protected override void RunBatch(long roundTrips)
    {
        StartLaps();
        for (long i = 0; i < roundTrips; i++)
        {
            Signal(_toPong);
            Await(_toPing);
            Lap();
        }
    }

    /// <inheritdoc />
    protected override void TearDown()
    {
        _stop = true;
        Signal(_toPong);
        Join(_pong!);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        _toPong.Dispose();
        _toPing.Dispose();
        base.Dispose(disposing);
    }

    private void PongLoop()
    {
        while (true)
        {
            Await(_toPong);
            if (_stop)
            {
                return;
            }

            _answered++;
            Signal(_toPing);
        }
    }
}
