namespace Umcg.Benchmarks.Handoff;

/// <summary>
/// Two threads taking turns through a pair of <see cref="AutoResetEvent"/>s: the runtime's native event,
/// which blocks at once without spinning.
/// </summary>
public sealed class AutoResetEventPingPong : PingPong
{
    private readonly AutoResetEvent _toPong = new(false);
    private readonly AutoResetEvent _toPing = new(false);
    private Thread? _pong;
    private long _answered;
    private volatile bool _stop;

    /// <summary>Creates the pair; see <see cref="PingPong"/>.</summary>
    public AutoResetEventPingPong(int? cpu)
        : base(cpu)
    {
    }

    /// <inheritdoc />
    protected override long Answered => Volatile.Read(ref _answered);

    /// <inheritdoc />
    protected override void SetUp() => _pong = StartPartner("AutoResetEvent pong", PongLoop);

    /// <inheritdoc />
    protected override void RunBatch(long roundTrips)
    {
        for (long i = 0; i < roundTrips; i++)
        {
            _toPong.Set();
            _toPing.WaitOne();
        }
    }

    /// <inheritdoc />
    protected override void TearDown()
    {
        _stop = true;
        _toPong.Set();
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
            _toPong.WaitOne();
            if (_stop)
            {
                return;
            }

            _answered++;
            _toPing.Set();
        }
    }
}
