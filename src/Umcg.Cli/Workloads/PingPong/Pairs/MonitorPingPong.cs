namespace Umcg.Cli.Workloads.PingPong.Pairs;

/// <summary>
/// Two threads taking turns under one lock with <see cref="Monitor.Wait(object)"/> and
/// <see cref="Monitor.Pulse"/>. Each side holds the lock except while it waits, so a handoff is a pulse,
/// a wait that releases the lock, and the partner re-acquiring it.
/// </summary>
internal sealed class MonitorPingPong : PingPongPair
{
    private readonly object _gate = new();
    private Thread? _pong;
    private bool _pongsTurn; // guarded by _gate
    private bool _stop; // guarded by _gate
    private long _answered;

    /// <summary>Creates the pair; see <see cref="PingPongPair"/>.</summary>
    public MonitorPingPong(int? cpu)
        : base(cpu)
    {
    }

    /// <inheritdoc />
    protected override long Answered => Volatile.Read(ref _answered);

    /// <inheritdoc />
    protected override void SetUp() => _pong = StartPartner("Monitor pong", PongLoop);

    /// <inheritdoc />
    protected override void RunBatch(long roundTrips)
    {
        StartLaps();
        lock (_gate)
        {
            for (long i = 0; i < roundTrips; i++)
            {
                _pongsTurn = true;
                Monitor.Pulse(_gate);
                while (_pongsTurn)
                {
                    Monitor.Wait(_gate);
                }

                Lap();
            }
        }
    }

    /// <inheritdoc />
    protected override void TearDown()
    {
        lock (_gate)
        {
            _stop = true;
            _pongsTurn = true;
            Monitor.Pulse(_gate);
        }

        Join(_pong!);
    }

    private void PongLoop()
    {
        lock (_gate)
        {
            while (true)
            {
                while (!_pongsTurn)
                {
                    Monitor.Wait(_gate);
                }

                if (_stop)
                {
                    return;
                }

                _answered++;
                _pongsTurn = false;
                Monitor.Pulse(_gate);
            }
        }
    }
}
