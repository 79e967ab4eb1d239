namespace Umcg.Benchmarks.Handoff;

/// <summary>
/// Two threads taking turns through a pair of <see cref="SemaphoreSlim"/>s: the handoff most .NET code
/// would write. SemaphoreSlim spins before it blocks, so it may hand off without sleeping at all.
/// </summary>
public sealed class SemaphoreSlimPingPong : PingPong
{
    private readonly SemaphoreSlim _toPong = new(0);
    private readonly SemaphoreSlim _toPing = new(0);
    private Thread? _pong;
    private long _answered;
    private volatile bool _stop;

    /// <summary>Creates the pair; see <see cref="PingPong"/>.</summary>
    public SemaphoreSlimPingPong(int? cpu)
        : base(cpu)
    {
    }

    /// <inheritdoc />
    protected override long Answered => Volatile.Read(ref _answered);

    /// <inheritdoc />
    protected override void SetUp() => _pong = StartPartner("SemaphoreSlim pong", PongLoop);

    /// <inheritdoc />
    protected override void RunBatch(long roundTrips)
    {
        for (long i = 0; i < roundTrips; i++)
        {
            _toPong.Release();
            _toPing.Wait();
        }
    }

    /// <inheritdoc />
    protected override void TearDown()
    {
        _stop = true;
        _toPong.Release();
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
            _toPong.Wait();
            if (_stop)
            {
                return;
            }

            _answered++;
            _toPing.Release();
        }
    }
}
