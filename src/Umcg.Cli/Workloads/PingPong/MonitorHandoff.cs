namespace Umcg.Cli.Workloads.PingPong;

/// <summary>One lock and a turn variable: Monitor.Pulse / Monitor.Wait.</summary>
internal sealed class MonitorHandoff : ThreadPairHandoff
{
    private readonly object _gate = new();
    private bool _pongsTurn;

    public override string Name => "monitor";

    public override string Describe => "lock + turn flag, Monitor.Pulse / Monitor.Wait";

    protected override void RoundTrip()
    {
        lock (_gate)
        {
            _pongsTurn = true;
            Monitor.Pulse(_gate);
            while (_pongsTurn)
            {
                Monitor.Wait(_gate);
            }
        }
    }

    protected override void WaitForPing()
    {
        lock (_gate)
        {
            while (!_pongsTurn)
            {
                Monitor.Wait(_gate);
            }
        }
    }

    protected override void AnswerPing()
    {
        lock (_gate)
        {
            _pongsTurn = false;
            Monitor.Pulse(_gate);
        }
    }

    protected override void ReleasePong()
    {
        lock (_gate)
        {
            _pongsTurn = true;
            Monitor.Pulse(_gate);
        }
    }
}
